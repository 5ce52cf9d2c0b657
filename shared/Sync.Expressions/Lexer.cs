namespace Sync.Expressions;

/// <summary>Splits an expression into tokens: numbers, 'strings' ('' escapes a quote), names, "quoted names", operators.</summary>
internal static class Lexer
{
    private static readonly string[] Operators = ["||", "<>", "!=", "<=", ">=", "+", "-", "*", "/", "%", "=", "<", ">"];

    public static List<Token> Tokenize(string text)
    {
        var tokens = new List<Token>();
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            var start = i;
            if (char.IsWhiteSpace(c))
            {
                i++;
            }
            else if (char.IsAsciiDigit(c) || (c == '.' && i + 1 < text.Length && char.IsAsciiDigit(text[i + 1])))
            {
                i = ReadNumber(text, i);
                tokens.Add(new Token(TokenKind.Number, text[start..i], start + 1));
            }
            else if (c == '\'' || c == '"')
            {
                var (value, end) = ReadQuoted(text, i, c);
                tokens.Add(new Token(c == '\'' ? TokenKind.String : TokenKind.QuotedIdentifier, value, start + 1));
                i = end;
            }
            else if (char.IsAsciiLetter(c) || c == '_')
            {
                while (i < text.Length && (char.IsAsciiLetterOrDigit(text[i]) || text[i] == '_'))
                {
                    i++;
                }

                tokens.Add(new Token(TokenKind.Identifier, text[start..i], start + 1));
            }
            else if (c is '(' or ')' or ',')
            {
                tokens.Add(new Token(c == '(' ? TokenKind.LeftParen : c == ')' ? TokenKind.RightParen : TokenKind.Comma, c.ToString(), start + 1));
                i++;
            }
            else if (Operators.FirstOrDefault(op => string.CompareOrdinal(text, i, op, 0, op.Length) == 0) is { } op)
            {
                tokens.Add(new Token(TokenKind.Operator, op, start + 1));
                i += op.Length;
            }
            else
            {
                throw new ExpressionException($"unexpected character '{c}'", start + 1);
            }
        }

        tokens.Add(new Token(TokenKind.End, "", text.Length + 1));
        return tokens;
    }

    private static int ReadNumber(string text, int i)
    {
        while (i < text.Length && char.IsAsciiDigit(text[i]))
        {
            i++;
        }

        if (i < text.Length && text[i] == '.')
        {
            i++;
            while (i < text.Length && char.IsAsciiDigit(text[i]))
            {
                i++;
            }
        }

        if (i < text.Length && text[i] is 'e' or 'E')
        {
            var j = i + 1;
            if (j < text.Length && text[j] is '+' or '-')
            {
                j++;
            }

            if (j < text.Length && char.IsAsciiDigit(text[j]))
            {
                i = j;
                while (i < text.Length && char.IsAsciiDigit(text[i]))
                {
                    i++;
                }
            }
        }

        if (i < text.Length && (char.IsAsciiLetter(text[i]) || text[i] == '_'))
        {
            throw new ExpressionException($"a number cannot run into a name (\"{text[..(i + 1)].Split(' ')[^1]}\")", i + 1);
        }

        return i;
    }

    private static (string Value, int End) ReadQuoted(string text, int i, char quote)
    {
        var value = new System.Text.StringBuilder();
        var start = i;
        i++;
        while (i < text.Length)
        {
            if (text[i] == quote)
            {
                if (i + 1 < text.Length && text[i + 1] == quote)
                {
                    value.Append(quote);
                    i += 2;
                    continue;
                }

                return (value.ToString(), i + 1);
            }

            value.Append(text[i]);
            i++;
        }

        throw new ExpressionException(quote == '\'' ? "unterminated string: a ' is missing" : "unterminated quoted name: a \" is missing", start + 1);
    }
}
