using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Sync.EndToEnd.Tests.Infrastructure;

namespace Sync.EndToEnd.Tests;

/// <summary>
/// A Coordinator without any source or destination connection (issue 17) drops cdc slots through
/// the Extractor: a watermark reset drops the job's slot and the next run copies afresh; a removed
/// job's slot is kept and reported while the Extractor is down, and dropped by the Coordinator's
/// background retry once it is back.
/// </summary>
public sealed class CdcSlotRequestTests : IAsyncLifetime
{
    private const string Table = "slot_requests";
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly string _job = $"slot_requests_{Guid.NewGuid():N}"[..22];
    private SyncDeployment _sync = null!;

    private const string Slots = "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'sync_' || $1";
    private const string Records = "SELECT count(*) FROM sync_cdc_slots WHERE job = $1";
    private const string Watermarks = "SELECT count(*) FROM sync_watermarks WHERE key = $1";

    public async Task InitializeAsync()
    {
        _sync = await CdcDeployment.CreateAsync("slotreq", runDuration: "00:00:02");
        await OrdersTable.CreateAsync(_sync.Source, Table);
        await OrdersTable.CreateAsync(_sync.Destination, Table);
        await OrdersTable.SeedAsync(_sync.Source, Table, first: 1, count: 300);
        // Runs started by the test only (the schedule is once a year).
        _sync.WriteJob($"{Table}.yml", $"""
            name: {_job}
            schedule: "0 0 1 1 *"
            source:
              type: postgres
              connection: source
              table: public.{Table}
              mode: cdc
              primary_key: [id]
            destination:
              type: postgres
              connection: destination
              table: public.{Table}
            """);
        _sync.SetEnvironment("Coordinator__StageRequestTimeout", "00:00:03");
        _sync.SetEnvironment("Coordinator__CdcSlotCleanupRetry", "00:00:02");
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
    public async Task A_Coordinator_without_connections_resets_a_cdc_job_and_drops_a_removed_jobs_slot_by_itself_once_the_Extractor_answers()
    {
        Assert.DoesNotContain(_sync.CoordinatorEnvironment().Keys, k => k.StartsWith("Connections__", StringComparison.Ordinal));
        Assert.Equal("Completed", (await _sync.RunAsync(_job)).State);
        Assert.Equal(await OrdersTable.DigestAsync(_sync.Source, Table), await OrdersTable.DigestAsync(_sync.Destination, Table));
        Assert.Equal(1L, await CountAsync(_sync.Source, Slots));

        // Reset: the Extractor drops the slot; the next run makes it again and copies the table afresh.
        using (var reset = await _sync.Http.DeleteAsync($"/api/jobs/{_job}/watermark"))
        {
            reset.EnsureSuccessStatusCode();
            Assert.Null((await reset.Content.ReadFromJsonAsync<JsonElement>(Json)).GetProperty("cdcSlotKept").GetString());
        }

        Assert.Equal(0L, await CountAsync(_sync.Source, Slots));
        Assert.Equal(0L, await CountAsync(_sync.Control, Watermarks));
        await OrdersTable.ExecuteAsync(_sync.Destination, $"TRUNCATE {Table}");
        Assert.Equal("Completed", (await _sync.RunAsync(_job)).State);
        Assert.Equal(await OrdersTable.DigestAsync(_sync.Source, Table), await OrdersTable.DigestAsync(_sync.Destination, Table));
        Assert.Equal(1L, await CountAsync(_sync.Source, Slots));

        // The job is removed while the Extractor is down: its slot is kept and reported.
        File.Delete(Path.Combine(_sync.JobsDirectory, $"{Table}.yml"));
        await _sync.KillServiceAsync("Extractor");
        await _sync.RestartCoordinatorAsync();
        var kept = await DropSlotAsync();
        Assert.Equal("Skipped", kept.GetProperty("fate").GetString());
        Assert.Contains("the Extractor did not answer", kept.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Equal(1L, await CountAsync(_sync.Source, Slots));
        Assert.Equal(1L, await CountAsync(_sync.Control, Records));

        // The Extractor is back: the Coordinator's own retry drops the slot, the record and the
        // watermark, with no restart and no call.
        await _sync.StartServiceAsync("Extractor");
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (await CountAsync(_sync.Control, Records) != 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(250);
        }

        Assert.Equal(0L, await CountAsync(_sync.Control, Records));
        Assert.Equal(0L, await CountAsync(_sync.Source, Slots));
        Assert.Equal(0L, await CountAsync(_sync.Control, Watermarks));
        using var none = await _sync.Http.DeleteAsync($"/api/jobs/{_job}/cdc");
        Assert.Equal(HttpStatusCode.NotFound, none.StatusCode);
    }

    private async Task<JsonElement> DropSlotAsync()
    {
        using var response = await _sync.Http.DeleteAsync($"/api/jobs/{_job}/cdc");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return Assert.Single((await response.Content.ReadFromJsonAsync<JsonElement>(Json)).EnumerateArray());
    }

    private async Task<long> CountAsync(string connectionString, string sql) =>
        Convert.ToInt64(await OrdersTable.ScalarAsync(connectionString, sql, _job));
}
