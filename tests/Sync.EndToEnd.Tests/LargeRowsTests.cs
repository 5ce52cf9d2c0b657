using Sync.EndToEnd.Tests.Infrastructure;

namespace Sync.EndToEnd.Tests;

/// <summary>
/// Batches are cut by bytes as well as by rows (issue 16): 1,000 rows of 150 KB each, with the
/// default batch_size of 1000, were one 150 MB batch, over RabbitMQ's 128 MiB message limit once
/// base64-encoded; with batch_bytes (default 8 MiB) they travel in batches of at most 8 MiB. And a
/// batch as large as batch_bytes allows (64 MiB, about 85 MiB on the wire) reaches the next stage:
/// the RabbitMQ client refuses messages over 64 MiB unless told the broker's limit, by closing its
/// connection, and the run waited for ever while each stage reconnected and was sent the batch again.
/// </summary>
public sealed class LargeRowsTests
{
    private const int Rows = 1000;
    private const long RowBytes = 153_600;

    [Fact]
    public async Task Tables_of_150_KB_and_20_MB_rows_sync_through_the_four_services_in_batches_cut_by_bytes()
    {
        await using var sync = await SyncDeployment.CreateAsync("largerows");
        const string Table = "CREATE TABLE documents (id bigint PRIMARY KEY, updated_at timestamptz NOT NULL, body text NOT NULL)";
        await OrdersTable.ExecuteAsync(sync.Source, Table);
        await OrdersTable.ExecuteAsync(sync.Destination, Table);
        // 4,800 md5s of 32 characters: 153,600 bytes, different in every row.
        await OrdersTable.ExecuteAsync(sync.Source, $"""
            INSERT INTO documents SELECT g, now() - interval '1 hour' + g * interval '1 millisecond', repeat(md5(g::text), 4800)
            FROM generate_series(1, {Rows}) g
            """);
        // Six rows of 20 MiB (655,360 md5s), cut by batch_bytes 64MiB into two batches of three: 60 MiB of rows, about 80 MiB on the wire each.
        await OrdersTable.ExecuteAsync(sync.Source, Table.Replace("documents", "blobs", StringComparison.Ordinal));
        await OrdersTable.ExecuteAsync(sync.Destination, Table.Replace("documents", "blobs", StringComparison.Ordinal));
        await OrdersTable.ExecuteAsync(sync.Source, """
            INSERT INTO blobs SELECT g, now() - interval '1 hour' + g * interval '1 millisecond', repeat(md5(g::text), 655360)
            FROM generate_series(1, 6) g
            """);
        sync.WriteJob("blobs.yml", """
            name: blobs
            batch_bytes: 64MiB
            source:
              type: postgres
              connection: source
              table: public.blobs
              cursor: updated_at
              primary_key: [id]
            destination:
              type: postgres
              connection: destination
              table: public.blobs
            """);
        sync.WriteJob("documents.yml", """
            name: documents
            batch_size: 1000
            source:
              type: postgres
              connection: source
              table: public.documents
              cursor: updated_at
              primary_key: [id]
            destination:
              type: postgres
              connection: destination
              table: public.documents
            """);
        await sync.StartAsync();

        var run = await sync.RunAsync("documents", TimeSpan.FromMinutes(5));

        Assert.True(run.State == "Completed", $"{run}\n{sync.Logs()}");
        Assert.Equal(Rows, run.Processed);
        Assert.Equal(Rows, run.Inserted);
        // 153.6 MB of rows in batches of at most 8 MiB (the default batch_bytes).
        Assert.True(run.ExpectedBatches >= (int)Math.Ceiling(Rows * RowBytes / (8.0 * 1024 * 1024)), $"{run.ExpectedBatches} batches");
        Assert.Equal(run.ExpectedBatches, run.LoadedBatches);
        Assert.Equal(await DigestAsync(sync.Source, "documents"), await DigestAsync(sync.Destination, "documents"));

        var blobs = await sync.RunAsync("blobs", TimeSpan.FromMinutes(3));

        Assert.True(blobs.State == "Completed", $"{blobs}\n{sync.Logs()}");
        Assert.Equal(6, blobs.Inserted);
        Assert.Equal(2, blobs.LoadedBatches);
        Assert.Equal(await DigestAsync(sync.Source, "blobs"), await DigestAsync(sync.Destination, "blobs"));
    }

    // A digest of each row's digest, in key order: equal digests, equal tables, without aggregating 150 MB of text.
    private static async Task<string> DigestAsync(string connectionString, string table) =>
        (string)(await OrdersTable.ScalarAsync(connectionString, $"SELECT count(*) || ' ' || md5(string_agg(md5(t::text), '' ORDER BY id)) FROM {table} t"))!;
}
