namespace Sync.Expressions;

/// <summary>
/// A parsed expression of a job file (a computed column or a filter). <see cref="Parse"/> checks the
/// syntax; <see cref="Bind"/> checks names and types against a batch's columns and returns the
/// evaluator. Pure: no reflection, no code generation, nothing but the operators and functions of
/// <see cref="Functions"/>.
/// </summary>
public sealed class Expression
{
    private readonly Syntax _syntax;

    private Expression(string text, Syntax syntax)
    {
        Text = text;
        _syntax = syntax;
        var columns = new List<string>();
        Collect(syntax, columns);
        Columns = columns;
    }

    public string Text { get; }

    /// <summary>The column names the expression reads, in order of first use.</summary>
    public IReadOnlyList<string> Columns { get; }

    /// <exception cref="ExpressionException">The syntax is wrong; its position says where.</exception>
    public static Expression Parse(string text) => new(text, Parser.Parse(text));

    /// <summary>Checks the expression against a schema: <paramref name="resolve"/> gives a column's index and type, or null when there is none.</summary>
    /// <exception cref="ExpressionException">An unknown column or function, or a type mismatch.</exception>
    public CompiledExpression Bind(Func<string, (int Index, ExprType Type)?> resolve)
    {
        var (type, evaluate) = new Binder(resolve).Bind(_syntax);
        return new CompiledExpression(type, evaluate);
    }

    private static void Collect(Syntax syntax, List<string> columns)
    {
        switch (syntax)
        {
            case ColumnSyntax column when !columns.Contains(column.Name):
                columns.Add(column.Name);
                break;
            case UnarySyntax unary:
                Collect(unary.Operand, columns);
                break;
            case BinarySyntax binary:
                Collect(binary.Left, columns);
                Collect(binary.Right, columns);
                break;
            case IsNullSyntax isNull:
                Collect(isNull.Operand, columns);
                break;
            case CallSyntax call:
                call.Arguments.ToList().ForEach(a => Collect(a, columns));
                break;
            case CaseSyntax @case:
                foreach (var (when, then) in @case.Branches)
                {
                    Collect(when, columns);
                    Collect(then, columns);
                }

                if (@case.Else is { } otherwise)
                {
                    Collect(otherwise, columns);
                }

                break;
        }
    }
}

/// <summary>A type-checked expression; <see cref="Type"/> is what it yields (<see cref="ExprType.Null"/> only for a bare null).</summary>
public sealed class CompiledExpression
{
    private readonly Evaluate _evaluate;

    internal CompiledExpression(ExprType type, Evaluate evaluate)
    {
        Type = type;
        _evaluate = evaluate;
    }

    public ExprType Type { get; }

    /// <exception cref="EvaluationException">This record makes the expression fail (division by zero, overflow…).</exception>
    public Value Evaluate(ExpressionRow row)
    {
        try
        {
            return _evaluate(row);
        }
        catch (OverflowException exception)
        {
            throw new EvaluationException("value out of range", exception);
        }
    }
}

/// <summary>The record an expression is evaluated on: its columns by the index <see cref="Expression.Bind"/> resolved, and the clock.</summary>
public abstract class ExpressionRow
{
    /// <summary>What <c>now()</c> returns, in microseconds since 2000-01-01 UTC; the caller sets it (once per batch in the Transformer).</summary>
    public long Now { get; set; }

    public void SetNow(DateTimeOffset now) => Now = PgTime.ToMicroseconds(now.UtcDateTime);

    public abstract Value Column(int index);
}

internal delegate Value Evaluate(ExpressionRow row);
