using Sync.EndToEnd.Tests.Infrastructure;

namespace Sync.EndToEnd.Tests;

/// <summary>
/// Issue 14, item 3, through the four services: a cdc job on a table without a usable replica
/// identity, or whose primary_key is not the identity's, is refused with the reason and the fix; its
/// table is never published, so the application's own UPDATE and DELETE on it keep working (a
/// published table without an identity makes them fail: "cannot update table … because it does not
/// have a replica identity and publishes updates").
/// </summary>
public sealed class CdcReplicaIdentityTests : IAsyncLifetime
{
    private SyncDeployment _sync = null!;

    public async Task InitializeAsync()
    {
        _sync = await CdcDeployment.CreateAsync("cdcident");
        const string Tables = """
            CREATE TABLE no_key (id bigint NOT NULL, code text NOT NULL, qty integer NOT NULL);
            CREATE TABLE no_identity (id bigint PRIMARY KEY, code text NOT NULL, qty integer NOT NULL);
            CREATE TABLE other_key (id bigint PRIMARY KEY, code text NOT NULL UNIQUE, qty integer NOT NULL);
            """;
        await OrdersTable.ExecuteAsync(_sync.Destination, Tables.Replace("id bigint NOT NULL,", "id bigint PRIMARY KEY,", StringComparison.Ordinal));
        await OrdersTable.ExecuteAsync(_sync.Source, Tables + """
            ALTER TABLE no_identity REPLICA IDENTITY NOTHING;
            INSERT INTO no_key SELECT g, 'c' || g, g FROM generate_series(1, 20) g;
            INSERT INTO no_identity SELECT g, 'c' || g, g FROM generate_series(1, 20) g;
            INSERT INTO other_key SELECT g, 'c' || g, g FROM generate_series(1, 20) g;
            """);
        foreach (var (table, key) in new[] { ("no_key", "id"), ("no_identity", "id"), ("other_key", "code") })
        {
            _sync.WriteJob($"{table}.yml", $$"""
                name: {{table.Replace('_', '-')}}
                source: { type: postgres, connection: source, table: public.{{table}}, mode: cdc, primary_key: [{{key}}] }
                destination: { type: postgres, connection: destination, table: public.{{table}}, key: [{{key}}] }
                """);
        }

        await _sync.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await using (_sync)
        {
            await _sync.ReleaseCdcSlotsAsync("Extractor");
        }
    }

    [Fact]
    public async Task A_cdc_job_without_a_replica_identity_that_holds_its_key_is_refused_with_the_fix_and_the_source_keeps_its_writes()
    {
        (string Table, string Reason, string Fix)[] cases =
        [
            ("no_key", "has no replica identity (no primary key)", "Add a primary key, or ALTER TABLE no_key REPLICA IDENTITY USING INDEX"),
            ("no_identity", "has no replica identity (REPLICA IDENTITY NOTHING)", "Add a primary key, or ALTER TABLE no_identity REPLICA IDENTITY USING INDEX"),
            ("other_key", "primary_key column \"code\" of the job is not in the replica identity of other_key (id)", "Set source.primary_key to the table's key, or ALTER TABLE other_key REPLICA IDENTITY FULL"),
        ];
        foreach (var (table, reason, fix) in cases)
        {
            // Refused on every run, not only the first: nothing was made that a second run could trip over.
            for (var attempt = 1; attempt <= 2; attempt++)
            {
                var run = await _sync.RunAsync(table.Replace('_', '-'));

                Assert.Equal("Failed", run.State);
                Assert.Contains(reason, run.FailureReason, StringComparison.Ordinal);
                Assert.Contains(fix, run.FailureReason, StringComparison.Ordinal);
            }

            Assert.Equal(0L, await CountAsync(_sync.Source, "SELECT count(*) FROM pg_publication_tables WHERE tablename = $1", table));
            Assert.Equal(0L, await CountAsync(_sync.Destination, $"SELECT count(*) FROM {table}"));

            // The application's own writes on the table still succeed.
            await OrdersTable.ExecuteAsync(_sync.Source, $"UPDATE {table} SET qty = qty + 100 WHERE id <= 5; DELETE FROM {table} WHERE id > 15");
            Assert.Equal("15 620", await OrdersTable.ScalarAsync(_sync.Source, $"SELECT count(*) || ' ' || sum(qty) FROM {table}"));
        }

        Assert.Equal(0L, await CountAsync(_sync.Source, "SELECT count(*) FROM pg_replication_slots WHERE database = current_database()"));
    }

    private static async Task<long> CountAsync(string connectionString, string sql, params object[] parameters) =>
        Convert.ToInt64(await OrdersTable.ScalarAsync(connectionString, sql, parameters));
}
