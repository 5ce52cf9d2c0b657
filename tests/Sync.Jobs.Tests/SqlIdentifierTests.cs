namespace Sync.Jobs.Tests;

public sealed class SqlIdentifierTests
{
    [Theory]
    [InlineData("orders")]
    [InlineData("_tmp")]
    [InlineData("Orders2")]
    [InlineData("price$usd")]
    [InlineData("a23456789012345678901234567890123456789012345678901234567890123")]
    public void Unquoted_postgres_identifiers_are_valid(string identifier) =>
        Assert.True(SqlIdentifier.IsValid(identifier));

    [Theory]
    [InlineData("")]
    [InlineData("1orders")]
    [InlineData("order id")]
    [InlineData("public.orders")]
    [InlineData("orders\"; drop table x; --")]
    [InlineData("\"orders\"")]
    [InlineData("orders\n")]
    [InlineData("ordérs")]
    [InlineData("$orders")]
    [InlineData("a234567890123456789012345678901234567890123456789012345678901234")]
    public void Anything_else_is_invalid(string identifier) =>
        Assert.False(SqlIdentifier.IsValid(identifier));

    [Fact]
    public void Null_is_invalid() => Assert.False(SqlIdentifier.IsValid(null));

    [Fact]
    public void Quote_always_double_quotes_and_keeps_case() =>
        Assert.Equal("\"Orders\"", SqlIdentifier.Quote("Orders"));

    [Theory]
    [InlineData("orders\"; drop table x; --")]
    [InlineData("x\" OR \"1\"=\"1")]
    [InlineData("public.orders")]
    [InlineData("")]
    public void Quote_refuses_what_is_not_an_identifier(string identifier)
    {
        var error = Assert.Throws<ArgumentException>(() => SqlIdentifier.Quote(identifier));

        Assert.Equal("identifier", error.ParamName);
    }

    [Theory]
    [InlineData("public.orders", "\"public\".\"orders\"")]
    [InlineData("orders", "\"orders\"")]
    [InlineData("Sales.Orders", "\"Sales\".\"Orders\"")]
    public void QuoteQualified_quotes_each_part(string qualified, string expected) =>
        Assert.Equal(expected, SqlIdentifier.QuoteQualified(qualified));

    [Theory]
    [InlineData("db.public.orders")]
    [InlineData("public.")]
    [InlineData(".orders")]
    [InlineData("public.orders\"; drop table x; --")]
    public void QuoteQualified_refuses_bad_names(string qualified) =>
        Assert.Throws<ArgumentException>(() => SqlIdentifier.QuoteQualified(qualified));

    [Fact]
    public void Split_uses_the_default_schema_for_a_bare_table()
    {
        Assert.Equal(("public", "orders"), SqlIdentifier.Split("orders"));
        Assert.Equal(("sales", "orders"), SqlIdentifier.Split("orders", "sales"));
        Assert.Equal(("reporting", "orders"), SqlIdentifier.Split("reporting.orders"));
    }

    [Fact]
    public void Split_refuses_bad_names_and_schemas()
    {
        Assert.Throws<ArgumentException>(() => SqlIdentifier.Split("a.b.c"));
        Assert.Throws<ArgumentException>(() => SqlIdentifier.Split("orders", "bad schema"));
    }
}
