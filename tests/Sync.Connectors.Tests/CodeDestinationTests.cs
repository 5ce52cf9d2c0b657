using System.Text.Json;
using Sync.Connectors.Code;
using Sync.Contracts;
using Sync.Examples.Transforms;

namespace Sync.Connectors.Tests;

/// <summary>The code destination feeding the example JSON-lines sink, whose files are read back.</summary>
public sealed class CodeDestinationTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "sync-code-sink-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    [Fact]
    public async Task The_example_sink_writes_each_batch_to_its_file_and_a_redelivered_batch_overwrites_it()
    {
        var destination = new CodeDestination((CodeSinks)new CodeSinks().Add("jsonl_folder", () => new JsonLinesFolderSink(_folder)));
        var job = CodeSourceTests.Job("demo_orders", batchSize: 100);
        var (runId, extractionId) = (Guid.NewGuid(), Guid.NewGuid());
        var batch = SampleBatch.Of(
            ["1", "2026-11-01 08:00:00+00", "12.50", "first", "2026-11-01"],
            ["2", "2026-11-01 08:00:01+00", null, "with \"quotes\"", null]);

        var first = await destination.LoadAsync(job, runId, extractionId, 7, batch, CancellationToken.None);
        var written = File.ReadAllBytes(JsonLinesFolderSink.PathOf(_folder, "code_job", runId, extractionId, 7));
        var again = await destination.LoadAsync(job, runId, extractionId, 7, batch, CancellationToken.None);

        Assert.Equal((2, 2, 0), (first.Rows, first.Inserted, first.Rejected.Count));
        Assert.Equal((2, 2, 0), (again.Rows, again.Inserted, again.Rejected.Count));
        var files = Directory.GetFiles(_folder, "*", SearchOption.AllDirectories);
        Assert.Equal([JsonLinesFolderSink.PathOf(_folder, "code_job", runId, extractionId, 7)], files);
        Assert.Equal(written, File.ReadAllBytes(files[0]));
        var lines = File.ReadAllLines(files[0]).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(2, lines.Count);
        Assert.Equal(1, lines[0].GetProperty("id").GetInt64());
        Assert.Equal(new DateTime(2026, 11, 1, 8, 0, 0, DateTimeKind.Utc), lines[0].GetProperty("updated_at").GetDateTime().ToUniversalTime());
        Assert.Equal(12.50m, lines[0].GetProperty("total").GetDecimal());
        Assert.Equal("first", lines[0].GetProperty("note").GetString());
        Assert.Equal("2026-11-01", lines[0].GetProperty("day").GetString());
        Assert.Equal(JsonValueKind.Null, lines[1].GetProperty("total").ValueKind);
        Assert.Equal("with \"quotes\"", lines[1].GetProperty("note").GetString());
    }

    [Fact]
    public async Task A_record_the_sink_refuses_is_a_rejection_by_its_row_and_the_others_are_written()
    {
        var destination = new CodeDestination((CodeSinks)new CodeSinks().Add("jsonl_folder", () => new JsonLinesFolderSink(_folder)));
        var job = CodeSourceTests.Job("demo_orders", batchSize: 100);
        var (runId, extractionId) = (Guid.NewGuid(), Guid.NewGuid());
        var batch = SampleBatch.Of(
            ["1", "2026-11-01 08:00:00+00", "1", "a", null],
            [null, "2026-11-01 08:00:01+00", "2", "no id", null],
            ["3", "2026-11-01 08:00:02+00", "3", "c", null]);

        var result = await destination.LoadAsync(job, runId, extractionId, 1, batch, CancellationToken.None);

        Assert.Equal((2, 2), (result.Rows, result.Inserted));
        var rejection = Assert.Single(result.Rejected);
        Assert.Equal(1, rejection.RowIndex);
        Assert.Equal("C# sink jsonl_folder: the record has no id", rejection.Error);
        var ids = File.ReadAllLines(JsonLinesFolderSink.PathOf(_folder, "code_job", runId, extractionId, 1))
            .Select(l => JsonDocument.Parse(l).RootElement.GetProperty("id").GetInt64());
        Assert.Equal([1L, 3L], ids);
    }

    [Fact]
    public async Task An_unregistered_sink_is_refused_naming_the_registered_ones_and_the_setting()
    {
        var destination = new CodeDestination((CodeSinks)new CodeSinks().Add(typeof(JsonLinesFolderSink).Assembly));
        var job = CodeSourceTests.Job("demo_orders", batchSize: 100);
        var wrong = job with { Destination = job.Destination with { Table = "jsonl" } };

        var error = await Assert.ThrowsAsync<Postgres.DestinationSchemaException>(() => destination.LoadAsync(wrong, Guid.NewGuid(), Guid.NewGuid(), 1, SampleBatch.Of(), CancellationToken.None));

        Assert.Contains("no C# sink is registered as \"jsonl\" (registered: jsonl_folder)", error.Message, StringComparison.Ordinal);
        Assert.Contains("Loader__Plugins", error.Message, StringComparison.Ordinal);
    }
}
