using Sync.Expressions;

namespace Sync.Expressions.Tests;

public sealed class ExpressionTests
{
    private static readonly (string Name, Value Value)[] Record =
    [
        ("total", Value.Of(12.345m)),
        ("qty", Value.Of(3L)),
        ("status", Value.Of("Draft ")),
        ("note", Value.Null),
        ("paid", Value.Of(true)),
        ("ratio", Value.Of(0.5)),
    ];

    private static readonly ExprType[] Types = [ExprType.Numeric, ExprType.Bigint, ExprType.Text, ExprType.Text, ExprType.Boolean, ExprType.Double];

    [Theory]
    [InlineData("round(total * 100)", "1235")]
    [InlineData("round(total, 1)", "12.3")]
    [InlineData("qty * 2 + 1", "7")]
    [InlineData("7 / 2", "3")]
    [InlineData("7 % 4", "3")]
    [InlineData("7.0 / 2", "3.5")]
    [InlineData("-qty + abs(-2)", "-1")]
    [InlineData("ratio * 4", "2")]
    [InlineData("lower(trim(status)) || '-' || qty", "draft-3")]
    [InlineData("upper(substring(status, 2, 3))", "RAF")]
    [InlineData("length(status)", "6")]
    [InlineData("concat(status, note, qty)", "Draft 3")]
    [InlineData("coalesce(note, status)", "Draft ")]
    [InlineData("coalesce(null, qty, 2.5)", "3")]
    [InlineData("case when qty > 2 then 'many' when qty > 0 then 'some' else 'none' end", "many")]
    [InlineData("case when paid then total end", "12.345")]
    public void Evaluates_operators_and_functions(string text, string expected) =>
        Assert.Equal(expected, Evaluate(text).ToString());

    [Theory]
    [InlineData("qty > 2 and paid", true)]
    [InlineData("qty >= 4 or not paid", false)]
    [InlineData("status <> 'draft'", true)]
    [InlineData("status != 'Draft '", false)]
    [InlineData("total > qty", true)]
    [InlineData("note is null and status is not null", true)]
    [InlineData("date '2024-02-01' > date '2024-01-31'", true)]
    [InlineData("timestamptz '2024-01-01T10:00:00Z' = timestamptz '2024-01-01 12:00:00+02:00'", true)]
    [InlineData("date_trunc('day', timestamp '2024-03-05 17:45:00') = timestamp '2024-03-05'", true)]
    public void Comparisons_and_logic_yield_booleans(string text, bool expected) =>
        Assert.Equal(Value.Of(expected), Evaluate(text));

    [Theory]
    [InlineData("note || 'x'")]
    [InlineData("qty + null")]
    [InlineData("note = 'a'")]
    [InlineData("lower(note)")]
    [InlineData("not (note = 'a')")]
    [InlineData("note = 'a' and paid")]
    [InlineData("case when note = 'a' then 1 end")]
    public void Null_propagates_as_in_sql(string text) => Assert.True(Evaluate(text).IsNull);

    [Theory]
    [InlineData("note = 'a' and not paid", false)]
    [InlineData("note = 'a' or paid", true)]
    [InlineData("note is null", true)]
    public void And_or_are_three_valued(string text, bool expected) => Assert.Equal(Value.Of(expected), Evaluate(text));

    [Fact]
    public void Now_is_the_rows_clock()
    {
        var row = new ListRow([.. Record.Select(r => r.Value)]);
        row.SetNow(new DateTimeOffset(2024, 5, 6, 7, 8, 9, TimeSpan.Zero));

        var value = Bind("now()").Evaluate(row);

        Assert.Equal(ExprType.TimestampTz, value.Type);
        Assert.Equal("2024-05-06 07:08:09+00", value.ToString());
    }

    [Theory]
    [InlineData("qty +", 6, "expected a value")]
    [InlineData("(qty + 1", 9, ") is missing")]
    [InlineData("'open", 1, "unterminated string")]
    [InlineData("qty # 2", 5, "unexpected character '#'")]
    [InlineData("qty 2", 5, "after a complete expression")]
    [InlineData("a < b < c", 7, "do not chain")]
    [InlineData("case when qty then", 19, "expected a value")]
    [InlineData("status is 'x'", 11, "null or not null")]
    [InlineData("", 1, "empty")]
    public void Syntax_errors_say_where(string text, int position, string message)
    {
        var error = Assert.Throws<ExpressionException>(() => Expression.Parse(text));

        Assert.Equal(position, error.Position);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("totl * 2", 1, "unknown column \"totl\"")]
    [InlineData("status + 1", 8, "+ needs numbers, not text and bigint; join text with ||")]
    [InlineData("qty = 'a'", 5, "cannot compare bigint with text")]
    [InlineData("paid and qty", 10, "and needs boolean, not bigint")]
    [InlineData("lower(qty)", 7, "lower() needs text, not bigint")]
    [InlineData("lowr(status)", 1, "did you mean lower()?")]
    [InlineData("round(total, 1, 2)", 1, "takes 1 or 2 arguments, not 3")]
    [InlineData("case when paid then 1 else 'x' end", 28, "else must have the type")]
    [InlineData("coalesce(qty, status)", 15, "must have one type")]
    [InlineData("date_trunc('week', now())", 12, "must be one of")]
    [InlineData("date 'tomorrow'", 1, "is not a date")]
    public void Type_errors_are_found_before_any_record(string text, int position, string message)
    {
        var error = Assert.Throws<ExpressionException>(() => Bind(text));

        Assert.Equal(position, error.Position);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("qty / 0", "division by zero")]
    [InlineData("total % (qty - 3)", "division by zero")]
    [InlineData("9223372036854775807 + qty", "out of range")]
    [InlineData("substring(status, 1, -1)", "negative substring length")]
    public void Failures_on_a_record_are_evaluation_errors(string text, string message)
    {
        var error = Assert.Throws<EvaluationException>(() => Evaluate(text));

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Lists_the_columns_it_reads()
    {
        Assert.Equal(["total", "qty", "note"], Expression.Parse("round(total * qty) || coalesce(note, \"total\")").Columns);
    }

    private static Value Evaluate(string text) => Bind(text).Evaluate(new ListRow([.. Record.Select(r => r.Value)]));

    private static CompiledExpression Bind(string text) =>
        Expression.Parse(text).Bind(name => Array.FindIndex(Record, r => r.Name == name) is var i and >= 0 ? (i, Types[i]) : null);

    private sealed class ListRow(Value[] values) : ExpressionRow
    {
        public override Value Column(int index) => values[index];
    }
}
