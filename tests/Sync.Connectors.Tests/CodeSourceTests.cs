using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using Sync.Batches;
using Sync.Connectors.Code;
using Sync.Connectors.Postgres;
using Sync.Contracts;
using Sync.Contracts.Jobs;
using Sync.Examples.Transforms;
using Sync.Jobs;
using Sync.Sdk;

namespace Sync.Connectors.Tests;

/// <summary>The code source running the example C# source (and a few of the tests' own) into real batches.</summary>
public sealed class CodeSourceTests
{
    [Fact]
    public async Task The_example_source_becomes_batches_of_batch_size_with_its_values_and_the_last_seq_as_watermark()
    {
        var source = new CodeSource((CodeSources)new CodeSources().Add(typeof(DemoOrders).Assembly));
        var job = Job("demo_orders", batchSize: 1000);

        var (batches, rejected, summary) = await ExtractAsync(source, job, after: null);

        Assert.Equal([1000, 1000, 500], batches.Select(b => b.RowCount));
        Assert.Empty(rejected);
        Assert.Equal(3, summary.BatchCount);
        Assert.Equal(DemoOrders.DefaultCount, summary.RowCount);
        Assert.Equal(["2500", "2500"], summary.High!.Values);
        Assert.Equal(["seq", "id", "customer", "total", "created_at"], batches[0].Columns.Select(c => c.Name));
        Assert.Equal([20u, 23u, 25u, 1700u, 1184u], batches[0].Columns.Select(c => c.TypeOid));

        var rows = batches.SelectMany(Rows).ToList();
        Assert.Equal(DemoOrders.DefaultCount, rows.Count);
        for (var n = 1; n <= DemoOrders.DefaultCount; n++)
        {
            var (customer, total, createdAt) = DemoOrders.Order(n);
            var expected = new[]
            {
                n.ToString(CultureInfo.InvariantCulture), n.ToString(CultureInfo.InvariantCulture), customer,
                total.ToString(CultureInfo.InvariantCulture), PgText(PgTypes.TimestampTz, createdAt.ToString("yyyy-MM-dd HH:mm:ss+00", CultureInfo.InvariantCulture)),
            };
            Assert.Equal(expected, rows[n - 1]);
        }
    }

    [Fact]
    public async Task A_run_after_the_watermark_reads_only_later_records_and_a_run_at_the_end_reads_none()
    {
        var source = new CodeSource((CodeSources)new CodeSources().Add("demo_orders", () => new DemoOrders(1200)));
        var job = Job("demo_orders", batchSize: 500);

        var (batches, _, summary) = await ExtractAsync(source, job, new CursorPosition(["1000", "1000"]));
        var (none, _, empty) = await ExtractAsync(source, job, summary.High);

        Assert.Equal(Enumerable.Range(1001, 200).Select(i => i.ToString(CultureInfo.InvariantCulture)), batches.SelectMany(Rows).Select(r => r[1]));
        Assert.Equal(["1200", "1200"], summary.High!.Values);
        Assert.Empty(none);
        Assert.Equal(0, empty.RowCount);
        Assert.Null(empty.High);
    }

    [Fact]
    public async Task Records_at_or_before_the_watermark_are_dropped_when_the_source_yields_the_boundary_again()
    {
        // A source that reads its boundary inclusively (>=), as one with repeated cursor values must.
        var source = new CodeSource((CodeSources)new CodeSources().Add("ties", () => new Ties()));
        var job = Job("ties", batchSize: 100, cursor: "day", primaryKey: "id");

        var (batches, _, summary) = await ExtractAsync(source, job, new CursorPosition(["2026-03-02", "2"]));

        Assert.Equal(["3", "4"], batches.SelectMany(Rows).Select(r => r[1]));
        Assert.Equal(["2026-03-03", "4"], summary.High!.Values);
    }

    [Fact]
    public async Task A_record_that_does_not_fit_its_schema_is_a_dead_letter_and_the_others_go_on()
    {
        var source = new CodeSource((CodeSources)new CodeSources().Add("mixed", () => new Mixed()));
        var job = Job("mixed", batchSize: 100, cursor: "seq", primaryKey: "id");

        var (batches, rejected, summary) = await ExtractAsync(source, job, after: null);

        Assert.Equal(["1", "4"], batches.SelectMany(Rows).Select(r => r[0]));
        Assert.Equal(2, rejected.Count);
        Assert.All(rejected, r => Assert.Equal("extract", r.Stage));
        Assert.Equal([1, 2], rejected.Select(r => r.RowIndex));
        Assert.Contains("column id is null", rejected[0].Error, StringComparison.Ordinal);
        Assert.Contains("column amount", rejected[1].Error, StringComparison.Ordinal);
        Assert.Equal("{\"seq\":3,\"id\":3,\"amount\":\"lots\"}", Rows(rejected[1].Record).Single()[0]);
        Assert.Equal(["4", "4"], summary.High!.Values);
    }

    [Fact]
    public async Task A_source_without_the_cursor_column_or_an_unknown_name_is_refused_with_the_fix()
    {
        var sources = (CodeSources)new CodeSources().Add(typeof(DemoOrders).Assembly);
        var source = new CodeSource(sources);

        var missing = await Assert.ThrowsAsync<SourceSchemaException>(() => ExtractAsync(source, Job("demo_orders", 1000, cursor: "updated_at"), null));
        var unknown = await Assert.ThrowsAsync<SourceSchemaException>(() => ExtractAsync(source, Job("demo_order", 1000), null));

        Assert.Contains("has no column \"updated_at\" (columns: seq, id, customer, total, created_at)", missing.Message, StringComparison.Ordinal);
        Assert.Contains("no C# source is registered as \"demo_order\" (registered: demo_orders)", unknown.Message, StringComparison.Ordinal);
        Assert.Contains("Extractor__Plugins", unknown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_watermark_that_does_not_fit_the_cursor_type_is_refused_naming_the_reset()
    {
        var source = new CodeSource((CodeSources)new CodeSources().Add(typeof(DemoOrders).Assembly));

        var error = await Assert.ThrowsAsync<SourceSchemaException>(() => ExtractAsync(source, Job("demo_orders", 1000), new CursorPosition(["2026-01-01 00:00:00+00", "7"])));

        Assert.Contains("DELETE /api/jobs/code_job/watermark", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_plugins_folder_registers_the_sources_of_its_assemblies()
    {
        var folder = Directory.CreateTempSubdirectory("sync-plugins-").FullName;
        try
        {
            File.Copy(typeof(DemoOrders).Assembly.Location, Path.Combine(folder, Path.GetFileName(typeof(DemoOrders).Assembly.Location)));
            var sources = new CodeSources().AddFolder(folder);

            Assert.Equal(["demo_orders"], sources.Names);
            Assert.IsType<DemoOrders>(sources.Create("demo_orders"));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void An_assembly_loaded_twice_registers_its_sources_once()
    {
        var assembly = typeof(DemoOrders).Assembly;
        var first = Directory.CreateTempSubdirectory("sync-plugins-").FullName;
        var second = Directory.CreateTempSubdirectory("sync-plugins-").FullName;
        try
        {
            File.Copy(assembly.Location, Path.Combine(first, Path.GetFileName(assembly.Location)));
            File.Copy(assembly.Location, Path.Combine(second, Path.GetFileName(assembly.Location)));

            // By the host, then from a folder, then from another folder holding a copy of it.
            var sources = new CodeSources().Add(assembly).AddFolder(first).AddFolder(second).AddFolder(first);

            Assert.Equal(["demo_orders"], sources.Names);
            Assert.IsType<DemoOrders>(sources.Create("demo_orders"));
        }
        finally
        {
            Directory.Delete(first, recursive: true);
            Directory.Delete(second, recursive: true);
        }
    }

    internal static JobSpec Job(string name, int batchSize, string cursor = "seq", string primaryKey = "id")
    {
        var yaml = $"""
            name: code_job
            batch_size: {batchSize}
            source:
              type: code
              name: {name}
              cursor: {cursor}
              primary_key: [{primaryKey}]
            destination:
              type: code
              name: jsonl_folder
            """;
        var result = JobFile.Parse(yaml, "jobs/code_job.yml");
        Assert.Empty(result.Errors);
        return result.Job!;
    }

    internal static List<string?[]> Rows(RecordBatch batch)
    {
        var rows = new List<string?[]>();
        var fields = new FieldSlice[batch.Columns.Count];
        var reader = new TupleReader(batch.Rows);
        while (reader.TryRead(fields, out var count, out _))
        {
            rows.Add([.. fields.Take(count).Select((f, i) => f.IsNull ? null : PgValueText.Format(batch.Columns[i].TypeOid, f.Of(batch.Rows)))]);
        }

        return rows;
    }

    private static string PgText(uint oid, string text) => PgValueText.Format(oid, PgValueCast.Convert(PgTypes.Text, Encoding.UTF8.GetBytes(text), oid));

    private static async Task<(List<RecordBatch> Batches, List<RejectedRecord> Rejected, ExtractionSummary Summary)> ExtractAsync(CodeSource source, JobSpec job, CursorPosition? after)
    {
        var batches = new List<RecordBatch>();
        var rejected = new List<RejectedRecord>();
        var summary = await source.ExtractAsync(job, after, (batch, set, _) =>
        {
            if (batch.RowCount > 0)
            {
                batches.Add(batch);
            }

            rejected.AddRange(set);
            return ValueTask.CompletedTask;
        }, CancellationToken.None);
        return (batches, rejected, summary);
    }

    private sealed class Ties : ISyncSource
    {
        public SyncSchema Schema { get; } = new([new SyncColumn("day", SyncType.Date), new SyncColumn("id", SyncType.Int64)]);

        public async IAsyncEnumerable<SyncRecord> ReadAsync(string? after, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            Assert.Equal("2026-03-02", after);
            foreach (var (day, id) in new[] { (new DateOnly(2026, 3, 2), 1L), (new DateOnly(2026, 3, 2), 2L), (new DateOnly(2026, 3, 2), 3L), (new DateOnly(2026, 3, 3), 4L) })
            {
                var record = SyncRecord.Create(Schema);
                record.Set("day", day);
                record.Set("id", id);
                yield return record;
            }

            await Task.CompletedTask;
        }
    }

    private sealed class Mixed : ISyncSource
    {
        public SyncSchema Schema { get; } = new([new SyncColumn("seq", SyncType.Int64), new SyncColumn("id", SyncType.Int64), new SyncColumn("amount", SyncType.Numeric)]);

        public async IAsyncEnumerable<SyncRecord> ReadAsync(string? after, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            // Values set straight into the record, past Set's conversions: the source's mistakes to catch.
            yield return new SyncRecord(Schema, [1L, 1L, 1.5m]);
            yield return new SyncRecord(Schema, [2L, null, 2m]);
            yield return new SyncRecord(Schema, [3L, 3L, "lots"]);
            yield return new SyncRecord(Schema, [4, 4L, null]);
            await Task.CompletedTask;
        }
    }
}
