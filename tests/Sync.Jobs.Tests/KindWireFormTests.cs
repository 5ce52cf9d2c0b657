using System.Text.Json;
using System.Text.Json.Serialization;
using Sync.Contracts.Jobs;

namespace Sync.Jobs.Tests;

/// <summary>
/// Connector kinds travel in messages as the job file's words, as they did when they were strings,
/// so a message published before an upgrade is still read after it, and the other way round.
/// </summary>
public sealed class KindWireFormTests
{
    public static TheoryData<JsonSerializerOptions> Options => new()
    {
        new JsonSerializerOptions(),
        new JsonSerializerOptions(JsonSerializerDefaults.Web),
        new JsonSerializerOptions(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } },
    };

    [Theory]
    [MemberData(nameof(Options))]
    public void Kinds_are_written_as_the_job_file_words(JsonSerializerOptions options)
    {
        var job = JobYaml.Parse(JobYaml.MinimalWith("  type: postgres\n  connection: demo_destination\n  table: orders_copy", "  type: duckdb\n  connection: demo_destination\n  table: orders_copy"));

        using var json = JsonDocument.Parse(JsonSerializer.Serialize(job, options));
        var root = json.RootElement;

        Assert.Equal("postgres", Property(Property(root, "Source"), "Kind").GetString());
        Assert.Equal("duckdb", Property(Property(root, "Destination"), "Kind").GetString());
    }

    [Theory]
    [InlineData("postgres", SourceKind.Postgres)]
    [InlineData("http", SourceKind.Http)]
    [InlineData("files", SourceKind.Files)]
    [InlineData("code", SourceKind.Code)]
    public void A_source_kind_written_as_a_string_before_the_enum_is_read(string word, SourceKind kind) =>
        Assert.Equal(kind, JsonSerializer.Deserialize<SourceKind>($"\"{word}\""));

    [Theory]
    [InlineData("postgres", DestinationKind.Postgres)]
    [InlineData("duckdb", DestinationKind.DuckDb)]
    [InlineData("s3", DestinationKind.S3)]
    [InlineData("code", DestinationKind.Code)]
    public void A_destination_kind_written_as_a_string_before_the_enum_is_read(string word, DestinationKind kind) =>
        Assert.Equal(kind, JsonSerializer.Deserialize<DestinationKind>($"\"{word}\""));

    private static JsonElement Property(JsonElement element, string name) =>
        element.EnumerateObject().First(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase)).Value;
}
