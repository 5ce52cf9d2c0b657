using System.Net.Http.Json;
using System.Text.Json;
using Sync.EndToEnd.Tests.Infrastructure;

namespace Sync.EndToEnd.Tests;

/// <summary>The full-refresh job of the operations deployment: its tables, and a destination trigger that can refuse a batch.</summary>
internal static class FullRefreshTable
{
    public const string Job = "orders-refresh";
    public const string Table = "orders_refresh";

    public static async Task CreateAsync(SyncDeployment deployment)
    {
        await OrdersTable.CreateAsync(deployment.Source, Table);
        await OrdersTable.CreateAsync(deployment.Destination, Table);
        // A row with status 'poison' makes its whole batch fail for good (42501 is neither a data nor a
        // transient error), so the run fails part-way with its other batches loaded.
        await OrdersTable.ExecuteAsync(deployment.Destination, $"""
            CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'poison row %', NEW.id USING ERRCODE = '42501'; END $$;
            CREATE TRIGGER refuse_poison BEFORE INSERT OR UPDATE ON {Table} FOR EACH ROW WHEN (NEW.status = 'poison') EXECUTE FUNCTION refuse_poison();
            """);
        deployment.WriteJob($"{Table}.yml", OrdersTable.Job(Job, Table, extra: "  deletes: delete\nmode: full_refresh\nretry:\n  redelivery: []"));
    }
}

public sealed partial class OperationsApiTests
{
    [Fact]
    public async Task Full_refresh_deletes_what_the_source_deleted_and_a_failed_or_empty_refresh_deletes_nothing()
    {
        const string table = FullRefreshTable.Table;
        await OrdersTable.SeedAsync(Deployment.Source, table, 1, 3000);
        var first = await RefreshAsync();
        Assert.True(first.State == "Completed", first.FailureReason);
        Assert.Equal(await OrdersTable.DigestAsync(Deployment.Source, table), await OrdersTable.DigestAsync(Deployment.Destination, table));

        // 100 rows deleted, 50 updated, and one row the destination refuses as a whole batch.
        await OrdersTable.ExecuteAsync(Deployment.Source, $"DELETE FROM {table} WHERE id % 30 = 0");
        await OrdersTable.UpdateAsync(Deployment.Source, table, 50, 3000);
        await OrdersTable.ExecuteAsync(Deployment.Source, $"UPDATE {table} SET status = 'poison', updated_at = clock_timestamp() WHERE id = 2999");
        var failed = await RefreshAsync();

        Assert.Equal("Failed", failed.State);
        Assert.Equal(3000L, await OrdersTable.CountAsync(Deployment.Destination, table));
        Assert.Equal(0L, await Deleted(failed.RunId));

        await OrdersTable.ExecuteAsync(Deployment.Source, $"UPDATE {table} SET status = 'fixed', updated_at = clock_timestamp() WHERE id = 2999");
        var repaired = await RefreshAsync();

        Assert.True(repaired.State == "Completed", repaired.FailureReason);
        Assert.Equal(100L, await Deleted(repaired.RunId));
        Assert.Equal(2900L, await OrdersTable.CountAsync(Deployment.Destination, table));
        Assert.Equal(await OrdersTable.DigestAsync(Deployment.Source, table), await OrdersTable.DigestAsync(Deployment.Destination, table));
        Assert.Equal(100L, await OrdersTable.ScalarAsync(Deployment.Control, "SELECT deleted FROM sync_metrics WHERE run_id = $1", repaired.RunId));

        // An emptied source is refused (no allow_empty: true): the destination keeps every row.
        await OrdersTable.ExecuteAsync(Deployment.Source, $"DELETE FROM {table}");
        var empty = await RefreshAsync();

        Assert.Equal("Failed", empty.State);
        Assert.Contains("read no rows", empty.FailureReason, StringComparison.Ordinal);
        Assert.Equal(2900L, await OrdersTable.CountAsync(Deployment.Destination, table));
    }

    // This deployment has an API key; starting a run needs it.
    private async Task<RunResult> RefreshAsync()
    {
        using var request = Keyed(HttpMethod.Post, $"/api/jobs/{FullRefreshTable.Job}/runs");
        using var response = await Deployment.Http.SendAsync(request);
        var started = await response.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonElement>();
        return await Deployment.WaitForRunAsync(started.GetProperty("runId").GetGuid());
    }

    private async Task<long> Deleted(Guid runId) =>
        (await Deployment.Http.GetFromJsonAsync<JsonElement>($"/api/runs/{runId}/metrics")).GetProperty("run").GetProperty("deleted").GetInt64();
}
