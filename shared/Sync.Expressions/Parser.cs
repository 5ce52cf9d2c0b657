using System.Globalization;

namespace Sync.Expressions;

/// <summary>
/// Recursive descent over <see cref="Lexer"/>'s tokens, lowest precedence first:
/// or, and, not, comparison and <c>is [not] null</c>, <c>||</c>, <c>+ -</c>, <c>* / %</c>, unary minus, primary.
/// </summary>
internal sealed class Parser
{
    private static readonly HashSet<string> Comparisons = ["=", "<>", "!=", "<", "<=", ">", ">="];
    private static readonly HashSet<string> Reserved = new(StringComparer.OrdinalIgnoreCase)
    {
        "and", "or", "not", "is", "null", "true", "false", "case", "when", "then", "else", "end",
    };

    private readonly List<Token> _tokens;
    private int _next;

    private Parser(List<Token> tokens) => _tokens = tokens;

    public static Syntax Parse(string text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            throw new ExpressionException("the expression is empty", 1);
        }

        var parser = new Parser(Lexer.Tokenize(text));
        var syntax = parser.Or();
        if (parser.Peek.Kind != TokenKind.End)
        {
            throw new ExpressionException($"unexpected {parser.Peek.Shown} after a complete expression (an operator or a comma missing?)", parser.Peek.Position);
        }

        return syntax;
    }

    private Token Peek => _tokens[_next];

    private Token Take() => _tokens[_next++];

    private Syntax Or()
    {
        var left = And();
        while (Peek.Is("or"))
        {
            var op = Take();
            left = new BinarySyntax("or", left, And(), op.Position);
        }

        return left;
    }

    private Syntax And()
    {
        var left = Not();
        while (Peek.Is("and"))
        {
            var op = Take();
            left = new BinarySyntax("and", left, Not(), op.Position);
        }

        return left;
    }

    private Syntax Not()
    {
        if (Peek.Is("not"))
        {
            var op = Take();
            return new UnarySyntax("not", Not(), op.Position);
        }

        return Comparison();
    }

    private Syntax Comparison()
    {
        var left = Concat();
        if (Peek.Kind == TokenKind.Operator && Comparisons.Contains(Peek.Text))
        {
            var op = Take();
            var right = Concat();
            if (Peek.Kind == TokenKind.Operator && Comparisons.Contains(Peek.Text))
            {
                throw new ExpressionException($"comparisons do not chain; join them with and", Peek.Position);
            }

            return new BinarySyntax(op.Text == "!=" ? "<>" : op.Text, left, right, op.Position);
        }

        if (Peek.Is("is"))
        {
            var op = Take();
            var negated = false;
            if (Peek.Is("not"))
            {
                Take();
                negated = true;
            }

            Expect("null", "is must be followed by null or not null");
            return new IsNullSyntax(left, negated, op.Position);
        }

        return left;
    }

    private Syntax Concat()
    {
        var left = Additive();
        while (Peek.IsOperator("||"))
        {
            var op = Take();
            left = new BinarySyntax("||", left, Additive(), op.Position);
        }

        return left;
    }

    private Syntax Additive()
    {
        var left = Multiplicative();
        while (Peek.IsOperator("+") || Peek.IsOperator("-"))
        {
            var op = Take();
            left = new BinarySyntax(op.Text, left, Multiplicative(), op.Position);
        }

        return left;
    }

    private Syntax Multiplicative()
    {
        var left = Unary();
        while (Peek.IsOperator("*") || Peek.IsOperator("/") || Peek.IsOperator("%"))
        {
            var op = Take();
            left = new BinarySyntax(op.Text, left, Unary(), op.Position);
        }

        return left;
    }

    private Syntax Unary()
    {
        if (Peek.IsOperator("-") || Peek.IsOperator("+"))
        {
            var op = Take();
            var operand = Unary();
            return op.Text == "+" ? operand : new UnarySyntax("-", operand, op.Position);
        }

        return Primary();
    }

    private Syntax Primary()
    {
        var token = Take();
        switch (token.Kind)
        {
            case TokenKind.Number:
                return new LiteralSyntax(Number(token), token.Position);
            case TokenKind.String:
                return new LiteralSyntax(Value.Of(token.Text), token.Position);
            case TokenKind.QuotedIdentifier:
                return new ColumnSyntax(token.Text, token.Position);
            case TokenKind.LeftParen:
                var inner = Or();
                Expect(TokenKind.RightParen, "a ) is missing");
                return inner;
            case TokenKind.Identifier:
                return Named(token);
            default:
                throw new ExpressionException($"expected a value, a column or a function, found {token.Shown}", token.Position);
        }
    }

    private Syntax Named(Token token)
    {
        if (token.Is("true") || token.Is("false"))
        {
            return new LiteralSyntax(Value.Of(token.Is("true")), token.Position);
        }

        if (token.Is("null"))
        {
            return new LiteralSyntax(Value.Null, token.Position);
        }

        if (token.Is("case"))
        {
            return Case(token);
        }

        if (Reserved.Contains(token.Text))
        {
            throw new ExpressionException($"expected a value, a column or a function, found {token.Shown}", token.Position);
        }

        var name = token.Text.ToLowerInvariant();
        if (name is "date" or "timestamp" or "timestamptz" && Peek.Kind == TokenKind.String)
        {
            return new TypedLiteralSyntax(name, Take().Text, token.Position);
        }

        if (Peek.Kind != TokenKind.LeftParen)
        {
            return new ColumnSyntax(token.Text, token.Position);
        }

        Take();
        var arguments = new List<Syntax>();
        if (Peek.Kind != TokenKind.RightParen)
        {
            arguments.Add(Or());
            while (Peek.Kind == TokenKind.Comma)
            {
                Take();
                arguments.Add(Or());
            }
        }

        Expect(TokenKind.RightParen, $"a ) or a comma is missing in the call of {token.Text}");
        return new CallSyntax(name, arguments, token.Position);
    }

    private CaseSyntax Case(Token start)
    {
        var branches = new List<(Syntax, Syntax)>();
        while (Peek.Is("when"))
        {
            Take();
            var when = Or();
            Expect("then", "when … must be followed by then");
            branches.Add((when, Or()));
        }

        if (branches.Count == 0)
        {
            throw new ExpressionException("case must be followed by when … then …", Peek.Position);
        }

        Syntax? otherwise = null;
        if (Peek.Is("else"))
        {
            Take();
            otherwise = Or();
        }

        Expect("end", "case … must close with end");
        return new CaseSyntax(branches, otherwise, start.Position);
    }

    private void Expect(string keyword, string message)
    {
        if (!Peek.Is(keyword))
        {
            throw new ExpressionException($"{message}, found {Peek.Shown}", Peek.Position);
        }

        Take();
    }

    private void Expect(TokenKind kind, string message)
    {
        if (Peek.Kind != kind)
        {
            throw new ExpressionException($"{message}, found {Peek.Shown}", Peek.Position);
        }

        Take();
    }

    // As PostgreSQL: digits alone are bigint, a point makes numeric, an exponent makes double.
    private static Value Number(Token token)
    {
        var text = token.Text;
        try
        {
            if (text.Contains('e', StringComparison.OrdinalIgnoreCase))
            {
                return Value.Of(double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture));
            }

            if (text.Contains('.', StringComparison.Ordinal))
            {
                return Value.Of(decimal.Parse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture));
            }

            return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var integer)
                ? Value.Of(integer)
                : Value.Of(decimal.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture));
        }
        catch (OverflowException)
        {
            throw new ExpressionException($"the number {text} is too large", token.Position);
        }
    }
}
