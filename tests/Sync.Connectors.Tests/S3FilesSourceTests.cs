using System.Globalization;
using Sync.Batches;
using Sync.Connectors.Files;
using Sync.Connectors.Postgres;
using Sync.Contracts;
using Sync.Contracts.Jobs;
using Sync.Jobs;

namespace Sync.Connectors.Tests;

/// <summary>A files source with <c>prefix:</c> reading objects of a real S3-compatible server (s3rver).</summary>
public sealed class S3FilesSourceTests : IAsyncLifetime
{
    private S3Peer _s3 = null!;

    public async Task InitializeAsync() => _s3 = await S3Peer.CreateAsync("s3src");

    public async Task DisposeAsync() => await _s3.DisposeAsync();

    [Fact]
    public async Task Objects_under_the_prefix_are_read_once_each_in_modified_order_and_a_malformed_line_is_a_dead_letter()
    {
        await _s3.PutAsync("incoming/orders/a.csv", "id,updated_at,total\n1,2026-11-01T08:00:00Z,1.5\n2,2026-11-01T08:01:00Z,x\n3,2026-11-01T08:02:00Z,3.5\n");
        await _s3.PutAsync("incoming/orders/notes.txt", "not matched");
        await _s3.PutAsync("incoming/other/z.csv", "id,updated_at,total\n99,2026-11-01T08:00:00Z,9\n");
        var job = Job();
        await SettledAsync(job, 1);

        var first = await ExtractAsync(job, null);

        Assert.Equal([1L, 3L], first.Ids);
        var rejected = Assert.Single(first.Rejected);
        Assert.StartsWith("incoming/orders/a.csv:3: ", rejected.Error, StringComparison.Ordinal);
        Assert.Equal("incoming/orders/a.csv", first.Summary.High!.Values[1]);

        await _s3.PutAsync("incoming/orders/b.csv", "id,updated_at,total\n4,2026-11-01T09:00:00Z,4.5\n");
        await SettledAsync(job, 2);
        var second = await ExtractAsync(job, first.Summary.High);

        Assert.Equal([4L], second.Ids);
        Assert.Equal("incoming/orders/b.csv", second.Summary.High!.Values[1]);
        Assert.Empty((await ExtractAsync(job, second.Summary.High)).Ids);
    }

    // A new object is taken only once it has settled (FilesSource.SettleTime past its LastModified):
    // wait, with a deadline, until the listing shows that many.
    private async Task SettledAsync(JobSpec job, int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        var connection = _s3.Connections.Get("lake");
        while ((await S3Objects.ListAsync(connection, job.Source.Files!.Prefix!, job.Source.Files.Pattern, CancellationToken.None))
               .Count(o => o.Modified <= DateTime.UtcNow - FilesSource.SettleTime) < count)
        {
            Assert.True(DateTime.UtcNow < deadline, $"s3rver did not list {count} settled object(s) within 30 s");
            await Task.Delay(200);
        }
    }

    private static JobSpec Job()
    {
        var result = JobFile.Parse(
            """
            name: orders_from_s3
            batch_size: 100
            source:
              type: files
              connection: lake
              prefix: incoming/orders/
              pattern: "*.csv"
              format: csv
              cursor: updated_at
              primary_key: [id]
              fields:
                id: bigint
                updated_at: timestamptz
                total: numeric
            destination:
              type: postgres
              connection: warehouse
              table: public.orders
            """,
            "jobs/orders_s3.yml");
        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        return result.Job!;
    }

    private async Task<(List<long> Ids, List<RejectedRecord> Rejected, ExtractionSummary Summary)> ExtractAsync(JobSpec job, CursorPosition? after)
    {
        var ids = new List<long>();
        var rejected = new List<RejectedRecord>();
        var summary = await new FilesSource(_s3.Configuration).ExtractAsync(job, after, (batch, set, ct) =>
        {
            var id = batch.Columns.ToList().FindIndex(c => c.Name == "id");
            var fields = new FieldSlice[batch.Columns.Count];
            var reader = new TupleReader(batch.Rows);
            while (reader.TryRead(fields, out _, out _))
            {
                ids.Add(long.Parse(PgValueText.Format(20, fields[id].Of(batch.Rows)), CultureInfo.InvariantCulture));
            }

            rejected.AddRange(set);
            return default;
        }, CancellationToken.None);
        return (ids, rejected, summary);
    }
}
