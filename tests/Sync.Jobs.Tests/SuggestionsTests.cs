namespace Sync.Jobs.Tests;

public sealed class SuggestionsTests
{
    private static readonly string[] Keys = ["name", "schedule", "batch_size", "mode", "source", "destination", "columns"];

    [Theory]
    [InlineData("sorce", "source")]
    [InlineData("batchsize", "batch_size")]
    [InlineData("batchSize", "batch_size")]
    [InlineData("Destination", "destination")]
    [InlineData("column", "columns")]
    [InlineData("shedule", "schedule")]
    public void The_closest_known_word_is_suggested(string typo, string expected) =>
        Assert.Equal(expected, Suggestions.Closest(typo, Keys));

    [Theory]
    [InlineData("owner")]
    [InlineData("x")]
    public void Nothing_is_suggested_when_no_word_is_close(string word) =>
        Assert.Null(Suggestions.Closest(word, Keys));

    [Theory]
    [InlineData("", "abc", 3)]
    [InlineData("kitten", "sitting", 3)]
    [InlineData("same", "same", 0)]
    public void Distance_counts_edits(string a, string b, int expected) =>
        Assert.Equal(expected, Suggestions.Distance(a, b));
}
