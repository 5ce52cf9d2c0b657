using System.Globalization;

namespace Sync.Expressions;

/// <summary>
/// Type-checks a <see cref="Syntax"/> tree and turns it into nested evaluators. SQL's rules: an
/// operator or function given null yields null (except <c>is null</c>, <c>and</c>/<c>or</c>
/// three-valued logic, <c>coalesce</c> and <c>concat</c>); bigint op numeric is numeric, anything
/// op double is double.
/// </summary>
internal sealed class Binder(Func<string, (int Index, ExprType Type)?> resolve)
{
    public (ExprType Type, Evaluate Evaluate) Bind(Syntax syntax) => syntax switch
    {
        LiteralSyntax literal => (literal.Value.Type, _ => literal.Value),
        TypedLiteralSyntax typed => TypedLiteral(typed),
        ColumnSyntax column => Column(column),
        UnarySyntax unary => Unary(unary),
        BinarySyntax binary => Binary(binary),
        IsNullSyntax isNull => IsNull(isNull),
        CallSyntax call => Functions.Bind(call, this),
        CaseSyntax @case => Case(@case),
        _ => throw new ExpressionException("unsupported expression", syntax.Position),
    };

    /// <summary>The common type of branches or arguments (numbers widen, null fits anything), or null when they do not meet.</summary>
    public static ExprType? Unify(ExprType a, ExprType b)
    {
        if (a == b || b == ExprType.Null)
        {
            return a;
        }

        if (a == ExprType.Null)
        {
            return b;
        }

        return a.IsNumber() && b.IsNumber() ? (ExprType)Math.Max((int)a, (int)b) : null;
    }

    /// <summary>The value in the (wider) numeric type <paramref name="type"/>.</summary>
    public static Value Widen(Value value, ExprType type) => value.IsNull || value.Type == type ? value : type switch
    {
        ExprType.Numeric => Value.Of(value.AsDecimal()),
        ExprType.Double => Value.Of(value.AsDouble()),
        _ => value,
    };

    private static (ExprType, Evaluate) TypedLiteral(TypedLiteralSyntax typed)
    {
        var styles = DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal;
        try
        {
            Value value = typed.TypeName switch
            {
                "date" => new Value(ExprType.Date, (long)(DateTime.ParseExact(typed.Text, "yyyy-MM-dd", CultureInfo.InvariantCulture, styles) - PgTime.Epoch).TotalDays),
                "timestamp" => new Value(ExprType.Timestamp, PgTime.ToMicroseconds(DateTime.Parse(typed.Text, CultureInfo.InvariantCulture, styles))),
                _ => new Value(ExprType.TimestampTz, PgTime.ToMicroseconds(DateTimeOffset.Parse(typed.Text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal).UtcDateTime)),
            };
            return (value.Type, _ => value);
        }
        catch (FormatException)
        {
            var example = typed.TypeName == "date" ? "'2024-01-31'" : "'2024-01-31 12:00:00Z'";
            throw new ExpressionException($"'{typed.Text}' is not a {typed.TypeName}; write e.g. {typed.TypeName} {example}", typed.Position);
        }
    }

    private (ExprType, Evaluate) Column(ColumnSyntax column)
    {
        if (resolve(column.Name) is not { } found)
        {
            throw new ExpressionException($"unknown column \"{column.Name}\"", column.Position);
        }

        var index = found.Index;
        return (found.Type, row => row.Column(index));
    }

    private (ExprType, Evaluate) Unary(UnarySyntax unary)
    {
        var (type, operand) = Bind(unary.Operand);
        if (unary.Operator == "not")
        {
            Require(type, ExprType.Boolean, "not", unary.Position);
            return (ExprType.Boolean, row => operand(row) is { IsNull: false } v ? Value.Of(!v.Boolean) : Value.Null);
        }

        if (!type.IsNumber() && type != ExprType.Null)
        {
            throw new ExpressionException($"- needs a number, not {type.SqlName()}", unary.Position);
        }

        return (type, row =>
        {
            var v = operand(row);
            return v.Type switch
            {
                ExprType.Bigint => Value.Of(checked(-v.Integer)),
                ExprType.Numeric => Value.Of(-v.Numeric),
                ExprType.Double => Value.Of(-v.Double),
                _ => v,
            };
        }
        );
    }

    private (ExprType, Evaluate) IsNull(IsNullSyntax isNull)
    {
        var (_, operand) = Bind(isNull.Operand);
        var negated = isNull.Negated;
        return (ExprType.Boolean, row => Value.Of(operand(row).IsNull != negated));
    }

    private (ExprType, Evaluate) Binary(BinarySyntax binary)
    {
        var (leftType, left) = Bind(binary.Left);
        var (rightType, right) = Bind(binary.Right);
        switch (binary.Operator)
        {
            case "and":
            case "or":
                Require(leftType, ExprType.Boolean, binary.Operator, binary.Left.Position);
                Require(rightType, ExprType.Boolean, binary.Operator, binary.Right.Position);
                return (ExprType.Boolean, binary.Operator == "and" ? row => And(left(row), right(row)) : row => Or(left(row), right(row)));
            case "||":
                return (ExprType.Text, row => left(row) is { IsNull: false } l && right(row) is { IsNull: false } r ? Value.Of(l.ToString() + r.ToString()) : Value.Null);
            case "=" or "<>" or "<" or "<=" or ">" or ">=":
                return Comparison(binary, leftType, left, rightType, right);
            default:
                return Arithmetic(binary, leftType, left, rightType, right);
        }
    }

    private static Value And(Value l, Value r) =>
        (l.IsNull, r.IsNull) switch
        {
            (false, false) => Value.Of(l.Boolean && r.Boolean),
            (true, false) => r.Boolean ? Value.Null : Value.Of(false),
            (false, true) => l.Boolean ? Value.Null : Value.Of(false),
            _ => Value.Null,
        };

    private static Value Or(Value l, Value r) =>
        (l.IsNull, r.IsNull) switch
        {
            (false, false) => Value.Of(l.Boolean || r.Boolean),
            (true, false) => r.Boolean ? Value.Of(true) : Value.Null,
            (false, true) => l.Boolean ? Value.Of(true) : Value.Null,
            _ => Value.Null,
        };

    private static (ExprType, Evaluate) Comparison(BinarySyntax binary, ExprType leftType, Evaluate left, ExprType rightType, Evaluate right)
    {
        if (Unify(leftType, rightType) is not { } common)
        {
            throw new ExpressionException($"cannot compare {leftType.SqlName()} with {rightType.SqlName()}", binary.Position);
        }

        Func<int, bool> test = binary.Operator switch
        {
            "=" => c => c == 0,
            "<>" => c => c != 0,
            "<" => c => c < 0,
            "<=" => c => c <= 0,
            ">" => c => c > 0,
            _ => c => c >= 0,
        };
        return (ExprType.Boolean, row =>
        {
            var l = left(row);
            var r = right(row);
            return l.IsNull || r.IsNull ? Value.Null : Value.Of(test(Compare(Widen(l, common), Widen(r, common))));
        }
        );
    }

    private static int Compare(Value l, Value r) => l.Type switch
    {
        ExprType.Numeric => l.Numeric.CompareTo(r.Numeric),
        ExprType.Double => l.Double.CompareTo(r.Double),
        ExprType.Text => string.CompareOrdinal(l.Text, r.Text),
        _ => l.Integer.CompareTo(r.Integer),
    };

    private static (ExprType, Evaluate) Arithmetic(BinarySyntax binary, ExprType leftType, Evaluate left, ExprType rightType, Evaluate right)
    {
        var op = binary.Operator;
        if ((!leftType.IsNumber() && leftType != ExprType.Null) || (!rightType.IsNumber() && rightType != ExprType.Null))
        {
            var hint = op == "+" && (leftType == ExprType.Text || rightType == ExprType.Text) ? "; join text with ||" : "";
            throw new ExpressionException($"{op} needs numbers, not {leftType.SqlName()} and {rightType.SqlName()}{hint}", binary.Position);
        }

        var type = Unify(leftType, rightType) ?? ExprType.Null;
        return (type, row =>
        {
            var l = left(row);
            var r = right(row);
            return l.IsNull || r.IsNull ? Value.Null : Arithmetic(op, Widen(l, type), Widen(r, type));
        }
        );
    }

    private static Value Arithmetic(string op, Value l, Value r)
    {
        if (op is "/" or "%" && (r.Type switch { ExprType.Bigint => r.Integer == 0, ExprType.Numeric => r.Numeric == 0, _ => r.Double == 0 }))
        {
            throw new EvaluationException("division by zero");
        }

        return l.Type switch
        {
            ExprType.Bigint => Value.Of(op switch
            {
                "+" => checked(l.Integer + r.Integer),
                "-" => checked(l.Integer - r.Integer),
                "*" => checked(l.Integer * r.Integer),
                "/" => checked(l.Integer / r.Integer),
                _ => l.Integer % r.Integer,
            }),
            ExprType.Numeric => Value.Of(op switch
            {
                "+" => l.Numeric + r.Numeric,
                "-" => l.Numeric - r.Numeric,
                "*" => l.Numeric * r.Numeric,
                "/" => l.Numeric / r.Numeric,
                _ => l.Numeric % r.Numeric,
            }),
            _ => Finite(op switch
            {
                "+" => l.Double + r.Double,
                "-" => l.Double - r.Double,
                "*" => l.Double * r.Double,
                "/" => l.Double / r.Double,
                _ => l.Double % r.Double,
            }),
        };
    }

    private static Value Finite(double value) =>
        double.IsFinite(value) ? Value.Of(value) : throw new EvaluationException("value out of range: double precision overflow");

    private (ExprType, Evaluate) Case(CaseSyntax @case)
    {
        var whens = new List<(Evaluate When, Evaluate Then)>();
        var type = ExprType.Null;
        foreach (var (whenSyntax, thenSyntax) in @case.Branches)
        {
            var (whenType, when) = Bind(whenSyntax);
            Require(whenType, ExprType.Boolean, "when", whenSyntax.Position);
            var (thenType, then) = Bind(thenSyntax);
            type = Unify(type, thenType) ?? throw new ExpressionException($"case branches must have one type; this one is {thenType.SqlName()}, an earlier one {type.SqlName()}", thenSyntax.Position);
            whens.Add((when, then));
        }

        Evaluate otherwise = _ => Value.Null;
        if (@case.Else is { } elseSyntax)
        {
            var (elseType, elseEvaluate) = Bind(elseSyntax);
            type = Unify(type, elseType) ?? throw new ExpressionException($"else must have the type of the branches ({type.SqlName()}), not {elseType.SqlName()}", elseSyntax.Position);
            otherwise = elseEvaluate;
        }

        var result = type;
        return (result, row =>
        {
            foreach (var (when, then) in whens)
            {
                if (when(row) is { IsNull: false, Boolean: true })
                {
                    return Widen(then(row), result);
                }
            }

            return Widen(otherwise(row), result);
        }
        );
    }

    public static void Require(ExprType type, ExprType wanted, string what, int position)
    {
        if (type != wanted && type != ExprType.Null)
        {
            throw new ExpressionException($"{what} needs {wanted.SqlName()}, not {type.SqlName()}", position);
        }
    }
}
