using System.Globalization;
using System.Text;
using Microsoft.Extensions.Configuration;
using Sync.Batches;
using Sync.Connectors.Files;
using Sync.Connectors.Postgres;
using Sync.Contracts;
using Sync.Contracts.Jobs;
using Sync.Jobs;

namespace Sync.Connectors.Tests;

/// <summary>The files source on real files in a temporary folder, their modified times set so the order is known.</summary>
public sealed class FilesSourceTests : IDisposable
{
    private static readonly DateTime Past = new(2026, 11, 1, 8, 0, 0, DateTimeKind.Utc);
    private readonly string _folder = Directory.CreateTempSubdirectory("sync-files-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task Csv_files_are_read_oldest_first_once_each_and_a_malformed_line_is_a_dead_letter_with_file_and_line()
    {
        Write("in/b.csv", "id,updated_at,total\n3,2026-11-01T09:00:00Z,3.5\n4,2026-11-01T09:01:00Z,\"4.5\n", Past.AddMinutes(2));
        Write("in/a.csv", "id,updated_at,total\n1,2026-11-01T08:00:00Z,1.5\n2,2026-11-01T08:01:00Z,x\n5,2026-11-01T08:02:00Z,5.5,extra\n6,2026-11-01T08:03:00Z,6.5\n", Past.AddMinutes(1));
        Write("in/skip.txt", "not matched", Past);
        var job = Job("csv", "in/*.csv");

        var first = await ExtractAsync(job, null);

        Assert.Equal([1L, 6L, 3L], first.Ids);
        Assert.Equal(["in/a.csv:3", "in/a.csv:4", "in/b.csv:3"], first.Rejected.Select(r => r.Error[..r.Error.IndexOf(": ", StringComparison.Ordinal)]));
        Assert.Equal([Past.AddMinutes(2).ToString("O", CultureInfo.InvariantCulture), "in/b.csv"], first.Summary.High!.Values);

        Write("in/c.csv", "id,updated_at,total\n7,2026-11-01T10:00:00Z,7.5\n", Past.AddMinutes(3));
        var second = await ExtractAsync(job, first.Summary.High);

        Assert.Equal([7L], second.Ids);
        Assert.Equal("in/c.csv", second.Summary.High!.Values[1]);
        Assert.Empty((await ExtractAsync(job, second.Summary.High)).Ids);
    }

    [Fact]
    public async Task A_file_that_appears_with_an_older_modified_time_than_the_watermark_is_read_once()
    {
        Write("in/a.csv", "id,updated_at,total\n1,2026-11-01T08:00:00Z,1.5\n", Past.AddMinutes(1));
        Write("in/b.csv", "id,updated_at,total\n2,2026-11-01T09:00:00Z,2.5\n", Past.AddMinutes(2));
        var job = Job("csv", "in/*.csv");
        var first = await ExtractAsync(job, null);
        Assert.Equal([1L, 2L], first.Ids);

        // Moved in (or rsync -t'd, untarred) after b.csv was read, keeping its older modified time.
        Write("in/moved.csv", "id,updated_at,total\n3,2026-11-01T07:00:00Z,3.5\n4,2026-11-01T07:01:00Z,4.5\n", Past);
        var second = await ExtractAsync(job, first.Summary.High);

        Assert.Equal([3L, 4L], second.Ids);
        // The position still names the newest file read; it lists every file read.
        Assert.Equal([Past.AddMinutes(2).ToString("O", CultureInfo.InvariantCulture), "in/b.csv"], second.Summary.High!.Values);
        Assert.Equal(["in/a.csv", "in/b.csv", "in/moved.csv"], second.Summary.High.Files!.Files.Select(f => f.Name).Order(StringComparer.Ordinal));
        var third = await ExtractAsync(job, second.Summary.High);
        Assert.Empty(third.Ids);
        Assert.Null(third.Summary.High);
    }

    [Fact]
    public async Task A_file_rewritten_with_a_new_size_or_modified_time_is_read_again_and_a_removed_one_is_forgotten()
    {
        Write("in/a.csv", "id,updated_at,total\n1,2026-11-01T08:00:00Z,1.5\n", Past.AddMinutes(1));
        Write("in/b.csv", "id,updated_at,total\n2,2026-11-01T09:00:00Z,2.5\n", Past.AddMinutes(2));
        Write("in/c.csv", "id,updated_at,total\n3,2026-11-01T10:00:00Z,3.5\n", Past.AddMinutes(3));
        var job = Job("csv", "in/*.csv");
        var first = await ExtractAsync(job, null);

        // a.csv gains a line but keeps its modified time (rsync -t of a changed file); b.csv is touched; c.csv goes.
        Write("in/a.csv", "id,updated_at,total\n1,2026-11-01T08:00:00Z,1.5\n5,2026-11-01T08:05:00Z,5.5\n", Past.AddMinutes(1));
        File.SetLastWriteTimeUtc(Path.Combine(_folder, "in/b.csv"), Past.AddMinutes(4));
        File.Delete(Path.Combine(_folder, "in/c.csv"));
        var second = await ExtractAsync(job, first.Summary.High);

        Assert.Equal([1L, 5L, 2L], second.Ids);
        Assert.Equal(["in/a.csv", "in/b.csv"], second.Summary.High!.Files!.Files.Select(f => f.Name).Order(StringComparer.Ordinal));
        Assert.Empty((await ExtractAsync(job, second.Summary.High)).Ids);
    }

    [Fact]
    public async Task A_watermark_without_a_file_list_counts_the_files_up_to_its_position_as_read()
    {
        // As a run before files were listed committed it: (modified time, name) of the newest file read.
        Write("in/a.csv", "id,updated_at,total\n1,2026-11-01T08:00:00Z,1.5\n", Past.AddMinutes(1));
        Write("in/b.csv", "id,updated_at,total\n2,2026-11-01T09:00:00Z,2.5\n", Past.AddMinutes(2));
        Write("in/c.csv", "id,updated_at,total\n3,2026-11-01T10:00:00Z,3.5\n", Past.AddMinutes(3));
        var job = Job("csv", "in/*.csv");

        var next = await ExtractAsync(job, new CursorPosition([Past.AddMinutes(2).ToString("O", CultureInfo.InvariantCulture), "in/b.csv"]));

        Assert.Equal([3L], next.Ids);
        Assert.Equal(["in/a.csv", "in/b.csv", "in/c.csv"], next.Summary.High!.Files!.Files.Select(f => f.Name).Order(StringComparer.Ordinal));
        Write("in/late.csv", "id,updated_at,total\n4,2026-11-01T07:00:00Z,4.5\n", Past);
        Assert.Equal([4L], (await ExtractAsync(job, next.Summary.High)).Ids);
    }

    [Fact]
    public void Past_the_remembered_limit_the_oldest_files_are_forgotten_whole_and_count_as_read()
    {
        // Two files share the modified time where the limit falls: both go, so neither is read again.
        var files = Enumerable.Range(0, FilesWatermark.RememberedFilesLimit)
            .Select(i => new FileRead($"f{i:0000}.csv", Past.AddSeconds(i), 10))
            .Append(new FileRead("f0000b.csv", Past, 10))
            .ToList();

        var position = FilesWatermark.Next(files, null, files);

        Assert.Equal(FilesWatermark.RememberedFilesLimit - 1, position.Files!.Files.Count);
        Assert.Equal(Past, position.Files.ForgottenThrough);
        Assert.DoesNotContain(position.Files.Files, f => f.Modified <= Past);
        Assert.Empty(FilesWatermark.Pending(files, position, DateTime.UtcNow));
        // A file appearing later is read when it is newer than the forgotten ones, not when it is as old.
        Assert.Equal(["new.csv"], FilesWatermark.Pending([.. files, new("new.csv", Past.AddTicks(1), 10), new("old.csv", Past, 10)], position, DateTime.UtcNow).Select(f => f.Name));
    }

    [Fact]
    public async Task A_jsonl_line_that_is_not_json_or_of_the_wrong_type_is_a_dead_letter_and_the_rest_loads()
    {
        Write("orders.jsonl", """
            {"id": 1, "updated_at": "2026-11-01T08:00:00Z", "total": 1.5}
            {"id": 2, "updated_at": "2026-11-01T08:01:00Z",
            {"id": 3, "updated_at": "yesterday", "total": 3.5}

            {"id": 4, "updated_at": "2026-11-01T08:03:00Z", "total": 4.5}
            """, Past);

        var result = await ExtractAsync(Job("jsonl", "*.jsonl"), null);

        Assert.Equal([1L, 4L], result.Ids);
        Assert.Equal(["orders.jsonl:2", "orders.jsonl:3"], result.Rejected.Select(r => r.Error[..r.Error.IndexOf(": ", StringComparison.Ordinal)]));
        Assert.Equal("""{"id": 3, "updated_at": "yesterday", "total": 3.5}""", RecordText(result.Rejected[1]));
    }

    [Fact]
    public async Task Records_of_100_KB_are_cut_into_batches_of_at_most_batch_bytes_plus_one_record()
    {
        var note = new string('n', 100_000);
        Write("big.jsonl", string.Join("\n", Enumerable.Range(1, 300).Select(i =>
            $$"""{"id": {{i}}, "updated_at": "2026-11-01T08:00:00Z", "total": 1.5, "note": "{{note}}"}""")), Past);
        var job = Job("jsonl", "*.jsonl", batchBytes: "1MiB", extraField: "note: text");
        var batches = new List<(int Rows, int Bytes)>();

        var result = await ExtractAsync(job, null, batches);

        Assert.Equal(Enumerable.Range(1, 300).Select(i => (long)i), result.Ids);
        Assert.Equal(300, batches.Sum(b => b.Rows));
        // Cut after the record that reaches batch_bytes (PendingBatch): at most one record more.
        Assert.All(batches, b => Assert.InRange(b.Bytes, 1, job.BatchBytes + 100_100));
        Assert.True(batches.Count >= 300 * 100_000 / job.BatchBytes, $"{batches.Count} batches");
    }

    private void Write(string name, string text, DateTime modified)
    {
        var path = Path.Combine(_folder, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        File.SetLastWriteTimeUtc(path, modified);
    }

    private static JobSpec Job(string format, string pattern, string? batchBytes = null, string extraField = "")
    {
        var result = JobFile.Parse(
            $"""
            name: orders_from_files
            batch_size: 100
            {(batchBytes is null ? "" : $"batch_bytes: {batchBytes}")}
            source:
              type: files
              connection: inbox
              pattern: "{pattern}"
              format: {format}
              cursor: updated_at
              primary_key: [id]
              fields:
                id: bigint
                updated_at: timestamptz
                total: numeric
                {extraField}
            destination:
              type: postgres
              connection: warehouse
              table: public.orders
            """,
            "jobs/orders_files.yml");
        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        return result.Job!;
    }

    private static string RecordText(RejectedRecord rejected)
    {
        var fields = new FieldSlice[1];
        new TupleReader(rejected.Record.Rows).TryRead(fields, out _, out _);
        return Encoding.UTF8.GetString(fields[0].Of(rejected.Record.Rows));
    }

    private async Task<(List<long> Ids, List<RejectedRecord> Rejected, ExtractionSummary Summary)> ExtractAsync(JobSpec job, CursorPosition? after, List<(int Rows, int Bytes)>? batches = null)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["FileConnections:inbox"] = _folder }).Build();
        var ids = new List<long>();
        var rejected = new List<RejectedRecord>();
        var summary = await new FilesSource(configuration).ExtractAsync(job, after, (batch, set, ct) =>
        {
            var fields = new FieldSlice[batch.Columns.Count];
            var reader = new TupleReader(batch.Rows);
            while (reader.TryRead(fields, out _, out _))
            {
                ids.Add(long.Parse(PgValueText.Format(20, fields[1].Of(batch.Rows)), CultureInfo.InvariantCulture));
            }

            rejected.AddRange(set);
            batches?.Add((batch.RowCount, batch.Rows.Length));
            return default;
        }, CancellationToken.None);
        return (ids, rejected, summary);
    }
}
