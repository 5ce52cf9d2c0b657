using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Parquet;
using Parquet.Schema;
using Sync.Connectors.S3;
using Sync.Contracts.Jobs;

namespace Sync.Connectors.Tests;

/// <summary>The s3 destination against a real S3-compatible server (s3rver).</summary>
public sealed class S3DestinationTests : IAsyncLifetime
{
    private static readonly Guid Run = Guid.Parse("0198c3a2-0000-7000-8000-000000000001");
    private static readonly Guid Extraction = Guid.Parse("0198c3a2-0000-7000-8000-0000000000e1");

    private S3Peer _s3 = null!;

    public async Task InitializeAsync() => _s3 = await S3Peer.CreateAsync("s3dest");

    public async Task DisposeAsync() => await _s3.DisposeAsync();

    [Fact]
    public async Task Parquet_objects_land_under_deterministic_keys_with_typed_values()
    {
        var job = Job("parquet");
        var destination = new S3Destination(_s3.Connections, S3Peer.Resilience());

        var result = await destination.LoadAsync(new BatchToLoad(job, Run, Extraction, 0, SampleBatch.Of(
            ["1", "2026-01-02T03:04:05.123456+00:00", "12.50", "first", "2026-01-02"],
            ["2", "2026-01-03T00:00:00+00:00", null, "second", null])), CancellationToken.None);

        Assert.Equal((2, 2, 0), (result.Rows, result.Inserted, result.Rejected.Count));
        var key = $"exports/orders/run={Run:D}/extraction={Extraction:D}/batch-000000.parquet";
        Assert.Equal([key], (await _s3.ListAsync()).Select(o => o.Key));

        using var stream = new MemoryStream(await _s3.GetAsync(key));
        await using var reader = await ParquetReader.CreateAsync(stream, new ParquetOptions { UseDateOnlyTypeForDates = true });
        var fields = reader.Schema.GetDataFields();
        Assert.Equal(["id", "updated_at", "total", "note", "day"], fields.Select(f => f.Name));
        using var group = reader.OpenRowGroupReader(0);
        Assert.Equal(2, group.RowCount);
        var ids = new long?[2];
        await group.ReadAsync<long>(fields[0], ids.AsMemory(), null);
        var stamps = new DateTime?[2];
        await group.ReadAsync<DateTime>(fields[1], stamps.AsMemory(), null);
        var totals = new decimal?[2];
        await group.ReadAsync<decimal>(fields[2], totals.AsMemory(), null);
        var notes = new string?[2];
        await group.ReadAsync(fields[3], notes.AsMemory(), null);
        var days = new DateOnly?[2];
        await group.ReadAsync<DateOnly>(fields[4], days.AsMemory(), null);

        Assert.Equal(new long?[] { 1, 2 }, ids);
        Assert.Equal(new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc).AddTicks(1234560), stamps[0]!.Value.ToUniversalTime());
        Assert.Equal(new decimal?[] { 12.50m, null }, totals);
        Assert.Equal(new[] { "first", "second" }, notes);
        Assert.Equal(new DateOnly?[] { new DateOnly(2026, 1, 2), null }, days);
        Assert.IsType<DecimalDataField>(fields[2]);
    }

    [Fact]
    public async Task A_redelivered_batch_overwrites_its_object_with_the_same_bytes_and_the_manifest_lists_each_object_once()
    {
        var job = Job("jsonl");
        var destination = new S3Destination(_s3.Connections, S3Peer.Resilience());
        var first = SampleBatch.Of(["1", "2026-01-02T03:04:05+00:00", "1.5", "a", "2026-01-02"], ["2", "2026-01-02T03:04:06+00:00", "2", "b\"q", null]);
        var second = SampleBatch.Of(["3", "2026-01-02T03:04:07+00:00", "3", "c", null]);

        await destination.LoadAsync(new BatchToLoad(job, Run, Extraction, 1, first), CancellationToken.None);
        await destination.LoadAsync(new BatchToLoad(job, Run, Extraction, 2, second), CancellationToken.None);
        var key = $"exports/orders/run={Run:D}/extraction={Extraction:D}/batch-000001.jsonl";
        var before = await _s3.GetAsync(key);
        await destination.LoadAsync(new BatchToLoad(job, Run, Extraction, 1, first), CancellationToken.None);
        var manifest = await destination.WriteManifestAsync(job, Run, Extraction, 2, CancellationToken.None);
        var again = await destination.WriteManifestAsync(job, Run, Extraction, 2, CancellationToken.None);

        Assert.Equal(before, await _s3.GetAsync(key));
        Assert.Equal(3, (await _s3.ListAsync($"exports/orders/run={Run:D}/")).Count);
        var lines = Encoding.UTF8.GetString(before).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        using (var row = JsonDocument.Parse(lines[1]))
        {
            Assert.Equal(2, row.RootElement.GetProperty("id").GetInt64());
            Assert.Equal("b\"q", row.RootElement.GetProperty("note").GetString());
            Assert.Equal("2026-01-02T03:04:06.000000Z", row.RootElement.GetProperty("updated_at").GetString());
            Assert.Equal(JsonValueKind.Null, row.RootElement.GetProperty("day").ValueKind);
        }

        Assert.Equal((3L, 2), (manifest.Rows, manifest.Objects.Count));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(before)), manifest.Objects[0].Sha256);
        Assert.Equal(manifest.Checksum, again.Checksum);
        var stored = await _s3.GetAsync($"exports/orders/run={Run:D}/manifest.json");
        using var document = JsonDocument.Parse(stored);
        Assert.Equal(3, document.RootElement.GetProperty("rows").GetInt64());
        Assert.Equal(manifest.Checksum, document.RootElement.GetProperty("checksum").GetString());
        Assert.Equal(
            [$"exports/orders/run={Run:D}/extraction={Extraction:D}/batch-000001.jsonl", $"exports/orders/run={Run:D}/extraction={Extraction:D}/batch-000002.jsonl"],
            document.RootElement.GetProperty("objects").EnumerateArray().Select(o => o.GetProperty("key").GetString()));
    }

    private static JobSpec Job(string format) => new(
        "orders",
        new SourceSpec(SourceKind.Postgres, "src", "public.orders", "updated_at", ["id"]),
        new TransformSpec([]),
        new DestinationSpec(DestinationKind.S3, "lake", string.Empty, ["id"], S3: new S3DestinationSpec("exports/", format)),
        BatchSize: 1000,
        Schedule: null);
}
