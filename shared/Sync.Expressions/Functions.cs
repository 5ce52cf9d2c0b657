namespace Sync.Expressions;

/// <summary>
/// The functions an expression may call — this list and nothing else. All are strict (null in,
/// null out) except <c>coalesce</c> (first non-null) and <c>concat</c> (skips nulls), as in PostgreSQL.
/// </summary>
internal static class Functions
{
    public static readonly IReadOnlyList<string> Names =
        ["abs", "coalesce", "concat", "date_trunc", "length", "lower", "now", "round", "substring", "trim", "upper"];

    private static readonly string[] TruncUnits = ["year", "month", "day", "hour", "minute", "second"];

    public static (ExprType, Evaluate) Bind(CallSyntax call, Binder binder)
    {
        var arguments = call.Arguments.Select(binder.Bind).ToList();
        var types = arguments.Select(a => a.Type).ToList();
        var args = arguments.Select(a => a.Evaluate).ToArray();
        switch (call.Function)
        {
            case "lower":
                Arity(call, 1, 1);
                TextArgument(call, types, 0);
                return (ExprType.Text, Strict1(args[0], v => Value.Of(v.Text!.ToLowerInvariant())));
            case "upper":
                Arity(call, 1, 1);
                TextArgument(call, types, 0);
                return (ExprType.Text, Strict1(args[0], v => Value.Of(v.Text!.ToUpperInvariant())));
            case "trim":
                Arity(call, 1, 1);
                TextArgument(call, types, 0);
                return (ExprType.Text, Strict1(args[0], v => Value.Of(v.Text!.Trim(' '))));
            case "length":
                Arity(call, 1, 1);
                TextArgument(call, types, 0);
                return (ExprType.Bigint, Strict1(args[0], v => Value.Of((long)v.Text!.EnumerateRunes().Count())));
            case "substring":
                return Substring(call, types, args);
            case "concat":
                Arity(call, 1, int.MaxValue);
                return (ExprType.Text, row => Value.Of(string.Concat(args.Select(a => a(row).ToString()))));
            case "coalesce":
                Arity(call, 1, int.MaxValue);
                var type = ExprType.Null;
                for (var i = 0; i < types.Count; i++)
                {
                    type = Binder.Unify(type, types[i])
                        ?? throw new ExpressionException($"coalesce's arguments must have one type; argument {i + 1} is {types[i].SqlName()}, an earlier one {type.SqlName()}", call.Arguments[i].Position);
                }

                return (type, row =>
                {
                    foreach (var a in args)
                    {
                        if (a(row) is { IsNull: false } v)
                        {
                            return Binder.Widen(v, type);
                        }
                    }

                    return Value.Null;
                }
                );
            case "round":
                return Round(call, types, args);
            case "abs":
                Arity(call, 1, 1);
                NumberArgument(call, types, 0);
                return (types[0], Strict1(args[0], v => v.Type switch
                {
                    ExprType.Bigint => Value.Of(checked(Math.Abs(v.Integer))),
                    ExprType.Numeric => Value.Of(Math.Abs(v.Numeric)),
                    _ => Value.Of(Math.Abs(v.Double)),
                }));
            case "now":
                Arity(call, 0, 0);
                return (ExprType.TimestampTz, row => new Value(ExprType.TimestampTz, row.Now));
            case "date_trunc":
                return DateTrunc(call, types, args);
            default:
                var closest = Names.OrderBy(n => Distance(n, call.Function)).First();
                throw new ExpressionException($"unknown function {call.Function}(); did you mean {closest}()? Functions: {string.Join(", ", Names)}", call.Position);
        }
    }

    private static (ExprType, Evaluate) Substring(CallSyntax call, List<ExprType> types, Evaluate[] args)
    {
        Arity(call, 2, 3);
        TextArgument(call, types, 0);
        for (var i = 1; i < types.Count; i++)
        {
            if (types[i] is not (ExprType.Bigint or ExprType.Null))
            {
                throw new ExpressionException($"substring's argument {i + 1} must be a whole number, not {types[i].SqlName()}", call.Arguments[i].Position);
            }
        }

        // PostgreSQL's substring(text, start [, count]): 1-based; a start before 1 shortens the count.
        return (ExprType.Text, row =>
        {
            var values = args.Select(a => a(row)).ToArray();
            if (values.Any(v => v.IsNull))
            {
                return Value.Null;
            }

            var text = values[0].Text!;
            var start = values[1].Integer;
            var end = values.Length == 3 ? start + values[2].Integer : long.MaxValue;
            if (values.Length == 3 && values[2].Integer < 0)
            {
                throw new EvaluationException("negative substring length not allowed");
            }

            var from = (int)Math.Clamp(start - 1, 0, text.Length);
            var to = (int)Math.Clamp(end - 1, from, text.Length);
            return Value.Of(text[from..to]);
        }
        );
    }

    private static (ExprType, Evaluate) Round(CallSyntax call, List<ExprType> types, Evaluate[] args)
    {
        Arity(call, 1, 2);
        NumberArgument(call, types, 0);
        if (types.Count == 2 && types[1] is not (ExprType.Bigint or ExprType.Null))
        {
            throw new ExpressionException($"round's digits must be a whole number, not {types[1].SqlName()}", call.Arguments[1].Position);
        }

        if (types.Count == 2 && types[0] == ExprType.Double)
        {
            throw new ExpressionException("round(double precision, digits) does not exist; round a numeric", call.Position);
        }

        return (types[0], row =>
        {
            var v = args[0](row);
            var digits = args.Length == 2 ? args[1](row) : Value.Of(0L);
            if (v.IsNull || digits.IsNull)
            {
                return Value.Null;
            }

            // numeric rounds half away from zero, double half to even (rint), as PostgreSQL does.
            return v.Type switch
            {
                ExprType.Numeric => Value.Of(Math.Round(v.Numeric, (int)Math.Clamp(digits.Integer, 0, 28), MidpointRounding.AwayFromZero)),
                ExprType.Double => Value.Of(Math.Round(v.Double, MidpointRounding.ToEven)),
                _ => v,
            };
        }
        );
    }

    private static (ExprType, Evaluate) DateTrunc(CallSyntax call, List<ExprType> types, Evaluate[] args)
    {
        Arity(call, 2, 2);
        if (call.Arguments[0] is not LiteralSyntax { Value.Type: ExprType.Text, Value.Text: { } unitText } || !TruncUnits.Contains(unitText.ToLowerInvariant()))
        {
            throw new ExpressionException($"date_trunc's first argument must be one of '{string.Join("', '", TruncUnits)}'", call.Arguments[0].Position);
        }

        if (types[1] is not (ExprType.Timestamp or ExprType.TimestampTz or ExprType.Null))
        {
            throw new ExpressionException($"date_trunc needs a timestamp or timestamptz, not {types[1].SqlName()}", call.Arguments[1].Position);
        }

        var unit = unitText.ToLowerInvariant();
        var type = types[1];
        return (type, Strict1(args[1], v =>
        {
            var t = PgTime.ToDateTime(v.Integer);
            var truncated = unit switch
            {
                "year" => new DateTime(t.Year, 1, 1, 0, 0, 0, DateTimeKind.Utc),
                "month" => new DateTime(t.Year, t.Month, 1, 0, 0, 0, DateTimeKind.Utc),
                "day" => t.Date,
                "hour" => new DateTime(t.Year, t.Month, t.Day, t.Hour, 0, 0, DateTimeKind.Utc),
                "minute" => new DateTime(t.Year, t.Month, t.Day, t.Hour, t.Minute, 0, DateTimeKind.Utc),
                _ => new DateTime(t.Year, t.Month, t.Day, t.Hour, t.Minute, t.Second, DateTimeKind.Utc),
            };
            return new Value(v.Type, PgTime.ToMicroseconds(DateTime.SpecifyKind(truncated, DateTimeKind.Utc)));
        }));
    }

    private static Evaluate Strict1(Evaluate argument, Func<Value, Value> apply) => row => argument(row) is { IsNull: false } v ? apply(v) : Value.Null;

    private static void Arity(CallSyntax call, int min, int max)
    {
        var count = call.Arguments.Count;
        if (count < min || count > max)
        {
            var wanted = min == max ? $"{min}" : max == int.MaxValue ? $"at least {min}" : $"{min} or {max}";
            throw new ExpressionException($"{call.Function}() takes {wanted} argument{(max == 1 && min == 1 ? "" : "s")}, not {count}", call.Position);
        }
    }

    private static void TextArgument(CallSyntax call, List<ExprType> types, int index)
    {
        if (types[index] is not (ExprType.Text or ExprType.Null))
        {
            throw new ExpressionException($"{call.Function}() needs text, not {types[index].SqlName()}", call.Arguments[index].Position);
        }
    }

    private static void NumberArgument(CallSyntax call, List<ExprType> types, int index)
    {
        if (!types[index].IsNumber() && types[index] != ExprType.Null)
        {
            throw new ExpressionException($"{call.Function}() needs a number, not {types[index].SqlName()}", call.Arguments[index].Position);
        }
    }

    private static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }

        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            }
        }

        return d[a.Length, b.Length];
    }
}
