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

        var first = await destination.LoadAsync(new BatchToLoad(job, runId, extractionId, 7, batch), CancellationToken.None);
        var written = File.ReadAllBytes(JsonLinesFolderSink.PathOf(_folder, "code_job", runId, extractionId, 7));
        var again = await destination.LoadAsync(new BatchToLoad(job, runId, extractionId, 7, batch), CancellationToken.None);

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

        var result = await destination.LoadAsync(new BatchToLoad(job, runId, extractionId, 1, batch), CancellationToken.None);

        Assert.Equal((2, 2), (result.Rows, result.Inserted));
        var rejection = Assert.Single(result.Rejected);
        Assert.Equal(1, rejection.RowIndex);
        Assert.Equal("C# sink jsonl_folder: the record has no id", rejection.Error);
        var ids = File.ReadAllLines(JsonLinesFolderSink.PathOf(_folder, "code_job", runId, extractionId, 1))
            .Select(l => JsonDocument.Parse(l).RootElement.GetProperty("id").GetInt64());
        Assert.Equal([1L, 3L], ids);
    }

    [Fact]
    public async Task The_shipped_example_job_moves_every_record_of_the_example_source_into_the_example_sink()
    {
        var job = ShippedJob("demo_orders_jsonl.yml");
        var source = new CodeSource((CodeSources)new CodeSources().Add(typeof(DemoOrders).Assembly));
        var destination = new CodeDestination((CodeSinks)new CodeSinks().Add("jsonl_folder", () => new JsonLinesFolderSink(_folder)));
        var (runId, extractionId) = (Guid.NewGuid(), Guid.NewGuid());
        var seq = 0;
        var loaded = 0;

        var summary = await source.ExtractAsync(job, after: null, async (batch, _, ct) =>
        {
            loaded += (await destination.LoadAsync(new BatchToLoad(job, runId, extractionId, ++seq, batch), ct)).Rows;
        }, CancellationToken.None);

        Assert.Equal((3, DemoOrders.DefaultCount, DemoOrders.DefaultCount), (summary.BatchCount, (int)summary.RowCount, loaded));
        var lines = Enumerable.Range(1, 3)
            .SelectMany(s => File.ReadAllLines(JsonLinesFolderSink.PathOf(_folder, "demo_orders_jsonl", runId, extractionId, s)))
            .Select(l => JsonDocument.Parse(l).RootElement)
            .ToList();
        Assert.Equal(Enumerable.Range(1, DemoOrders.DefaultCount), lines.Select(l => l.GetProperty("id").GetInt32()));
        Assert.All(lines, l =>
        {
            var (customer, total, createdAt) = DemoOrders.Order(l.GetProperty("seq").GetInt64());
            Assert.Equal((customer, total, createdAt), (l.GetProperty("customer").GetString(), l.GetProperty("total").GetDecimal(), l.GetProperty("created_at").GetDateTime().ToUniversalTime()));
        });
    }

    [Fact]
    public async Task An_unregistered_sink_is_refused_naming_the_registered_ones_and_the_setting()
    {
        var destination = new CodeDestination((CodeSinks)new CodeSinks().Add(typeof(JsonLinesFolderSink).Assembly));
        var job = CodeSourceTests.Job("demo_orders", batchSize: 100);
        var wrong = job with { Destination = job.Destination with { Table = "jsonl" } };

        var error = await Assert.ThrowsAsync<DestinationSchemaException>(() => destination.LoadAsync(new BatchToLoad(wrong, Guid.NewGuid(), Guid.NewGuid(), 1, SampleBatch.Of()), CancellationToken.None));

        Assert.Contains("no C# sink is registered as \"jsonl\" (registered: jsonl_folder)", error.Message, StringComparison.Ordinal);
        Assert.Contains("Loader__Plugins", error.Message, StringComparison.Ordinal);
    }

    private static Sync.Contracts.Jobs.JobSpec ShippedJob(string file)
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Sync.sln")))
        {
            directory = directory.Parent;
        }

        var result = Sync.Jobs.JobFile.Parse(File.ReadAllText(Path.Combine(directory!.FullName, "jobs", "examples", file)), "jobs/examples/" + file);
        Assert.True(result.IsValid, string.Join(Environment.NewLine, result.Errors));
        return result.Job;
    }
}
