using System.Net.Http.Json;
using System.Text.Json;
using Sync.EndToEnd.Tests.Infrastructure;

namespace Sync.EndToEnd.Tests;

/// <summary>
/// <c>syncctl verify</c> and <c>--repair</c> through the four services (issue 15): after a run, keys
/// planted as missing, different and extra in the destination are reported by the API with their
/// kind and columns, a repair run re-syncs exactly those keys through the pipeline, and the job
/// verifies equal again; the CLI exits 1 and then 0.
/// </summary>
public sealed class VerifyJobTests : IAsyncLifetime
{
    private const int Rows = 20_000;
    private SyncDeployment _deployment = null!;

    public async Task InitializeAsync()
    {
        _deployment = await SyncDeployment.CreateAsync("verify");
        foreach (var table in new[] { "orders_verify", "orders_refresh", "orders_selfcheck", "orders_dup" })
        {
            await OrdersTable.CreateAsync(_deployment.Source, table);
            await OrdersTable.CreateAsync(_deployment.Destination, table);
            await OrdersTable.SeedAsync(_deployment.Source, table, 1, Rows);
        }

        _deployment.WriteJob("orders_verify.yml", OrdersTable.Job("orders-verify", "orders_verify"));
        _deployment.WriteJob("orders_refresh.yml", OrdersTable.Job("orders-refresh", "orders_refresh", extra: "  deletes: delete\nmode: full_refresh"));
        // Verified by the Coordinator itself after every completed run; the note is not compared.
        _deployment.WriteJob("orders_selfcheck.yml", OrdersTable.Job("orders-selfcheck", "orders_selfcheck", extra: "verify:\n  after_run: true\n  ignore: [note]"));
        _deployment.WriteJob("orders_dup.yml", OrdersTable.Job("orders-dup", "orders_dup"));
        await _deployment.StartAsync();
    }

    public async Task DisposeAsync() => await _deployment.DisposeAsync();

    [Fact]
    public async Task An_incremental_job_with_planted_differences_is_found_repaired_and_then_equal()
    {
        Assert.Equal("Completed", (await _deployment.RunAsync("orders-verify")).State);
        Assert.Equal(0, (await VerifyAsync("orders-verify")).GetProperty("exitCode").GetInt32());

        await OrdersTable.ExecuteAsync(_deployment.Destination, """
            DELETE FROM orders_verify WHERE id IN (7, 15001);
            UPDATE orders_verify SET note = 'tampered' WHERE id = 42;
            UPDATE orders_verify SET amount = amount + 1, status = 'tampered' WHERE id = 9000;
            """);
        // Written after the watermark: not the destination's to have yet, so not a difference.
        await OrdersTable.SeedAsync(_deployment.Source, "orders_verify", Rows + 1, 10);

        var found = await VerifyAsync("orders-verify");

        Assert.Equal(("Different", 1), (found.GetProperty("outcome").GetString(), found.GetProperty("exitCode").GetInt32()));
        Assert.Equal(
            ["different:42:note", "different:9000:status,amount", "missing:15001:", "missing:7:"],
            Mismatches(found));
        Assert.Equal(Rows, found.GetProperty("sourceRows").GetInt64());

        var (code, output) = await _deployment.CliAsync(null, "verify", "orders-verify", "--repair");

        Assert.True(code == 0, output);
        Assert.Contains("repair run", output, StringComparison.Ordinal);
        var latest = await _deployment.Http.GetFromJsonAsync<JsonElement>("/api/jobs/orders-verify/verify");
        Assert.Equal(("Equal", 0), (latest.GetProperty("outcome").GetString(), latest.GetProperty("missing").GetInt32() + latest.GetProperty("different").GetInt32()));
        Assert.Equal(Rows, Convert.ToInt64(await OrdersTable.ScalarAsync(_deployment.Destination, "SELECT count(*) FROM orders_verify WHERE id <= 20000 AND note <> 'tampered' AND status <> 'tampered'")));
        var listed = (await _deployment.Http.GetFromJsonAsync<JsonElement>("/api/jobs")).EnumerateArray().Single(j => j.GetProperty("name").GetString() == "orders-verify");
        Assert.Equal("Equal", listed.GetProperty("lastVerification").GetProperty("outcome").GetString());
        var repairs = await OrdersTable.ScalarAsync(_deployment.Control, "SELECT count(*) FROM sync_runs WHERE job_name = 'orders-verify' AND trigger = 'repair' AND current_state = 'Completed'");
        Assert.Equal(1L, Convert.ToInt64(repairs));
    }

    [Fact]
    public async Task A_job_that_asks_to_be_verified_after_each_run_is_verified_with_its_ignored_column_left_out()
    {
        Assert.Equal("Completed", (await _deployment.RunAsync("orders-selfcheck")).State);
        var first = await NextVerificationAsync("orders-selfcheck", after: null);
        Assert.Equal(("Equal", Rows), (first.GetProperty("outcome").GetString(), first.GetProperty("sourceRows").GetInt64()));

        // A note changed behind the job's back is ignored; an amount is not.
        await OrdersTable.ExecuteAsync(_deployment.Destination, """
            UPDATE orders_selfcheck SET note = 'ignored' WHERE id BETWEEN 1 AND 50;
            UPDATE orders_selfcheck SET amount = amount + 1 WHERE id = 333;
            """);
        Assert.Equal("Completed", (await _deployment.RunAsync("orders-selfcheck")).State);
        var second = await NextVerificationAsync("orders-selfcheck", after: first.GetProperty("id").GetGuid());

        Assert.Equal("Different", second.GetProperty("outcome").GetString());
        Assert.Equal(["different:333:amount"], Mismatches(second));
        Assert.Equal(0L, Convert.ToInt64(await OrdersTable.ScalarAsync(_deployment.Control, "SELECT count(*) FROM sync_runs WHERE job_name = 'orders-selfcheck' AND trigger = 'repair'")));
    }

    /// <summary>The job's latest verification once it is not <paramref name="after"/> (the Coordinator makes it after the run, in the background).</summary>
    private async Task<JsonElement> NextVerificationAsync(string job, Guid? after)
    {
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (true)
        {
            using var response = await _deployment.Http.GetAsync($"/api/jobs/{job}/verify");
            if (response.IsSuccessStatusCode)
            {
                var latest = await response.Content.ReadFromJsonAsync<JsonElement>();
                if (latest.GetProperty("id").GetGuid() != after)
                {
                    return latest;
                }
            }

            Assert.True(DateTime.UtcNow < deadline, $"no verification of {job} after its run:\n{_deployment.Logs()}");
            await Task.Delay(250);
        }
    }

    [Fact]
    public async Task An_extra_key_of_a_job_that_deletes_is_deleted_by_the_repair()
    {
        Assert.Equal("Completed", (await _deployment.RunAsync("orders-refresh")).State);
        await OrdersTable.ExecuteAsync(_deployment.Destination, """
            INSERT INTO orders_refresh SELECT id + 100000, customer_id, status, amount, note, created_at, updated_at FROM orders_refresh WHERE id = 1;
            DELETE FROM orders_refresh WHERE id = 3;
            """);

        var (code, output) = await _deployment.CliAsync(null, "verify", "orders-refresh");
        Assert.True(code == 1, output);
        var found = await _deployment.Http.GetFromJsonAsync<JsonElement>("/api/jobs/orders-refresh/verify");
        Assert.Equal(["extra:100001:", "missing:3:"], Mismatches(found));

        var repaired = await VerifyAsync("orders-refresh", repair: true);
        var run = await _deployment.WaitForRunAsync(repaired.GetProperty("repairRunId").GetGuid());

        Assert.Equal("Completed", run.State);
        Assert.Equal(0, (await VerifyAsync("orders-refresh")).GetProperty("exitCode").GetInt32());
        Assert.Equal(await OrdersTable.DigestAsync(_deployment.Source, "orders_refresh"), await OrdersTable.DigestAsync(_deployment.Destination, "orders_refresh"));
    }

    [Fact]
    public async Task A_repeated_key_gets_no_repair_run_and_the_reason_since_loading_needs_a_unique_key()
    {
        Assert.Equal("Completed", (await _deployment.RunAsync("orders-dup")).State);
        // Behind the job's back: the primary key dropped, a row repeated, another changed.
        await OrdersTable.ExecuteAsync(_deployment.Destination, """
            ALTER TABLE orders_dup DROP CONSTRAINT orders_dup_pkey;
            INSERT INTO orders_dup SELECT * FROM orders_dup WHERE id = 5;
            UPDATE orders_dup SET note = 'tampered' WHERE id = 6;
            """);

        var (code, output) = await _deployment.CliAsync(null, "verify", "orders-dup", "--repair");

        Assert.True(code == 1, output);
        Assert.Contains("not repaired: the destination repeats 1 key(s), so it has no unique key on (id)", output, StringComparison.Ordinal);
        var found = await _deployment.Http.GetFromJsonAsync<JsonElement>("/api/jobs/orders-dup/verify");
        Assert.Equal(["different:6:note", "duplicate:5:"], Mismatches(found));
        Assert.Equal(0L, Convert.ToInt64(await OrdersTable.ScalarAsync(_deployment.Control, "SELECT count(*) FROM sync_runs WHERE job_name = 'orders-dup' AND trigger = 'repair'")));
    }

    private async Task<JsonElement> VerifyAsync(string job, bool repair = false)
    {
        using var response = await _deployment.Http.PostAsync($"/api/jobs/{job}/verify{(repair ? "?repair=true" : string.Empty)}", content: null);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body + _deployment.Logs());
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private static List<string> Mismatches(JsonElement verification) =>
        [.. verification.GetProperty("mismatches").EnumerateArray()
            .Select(m => $"{m.GetProperty("kind").GetString()}:{string.Join(',', m.GetProperty("key").EnumerateArray().Select(v => v.GetString()))}:"
                + (m.GetProperty("columns").ValueKind == JsonValueKind.Array ? string.Join(',', m.GetProperty("columns").EnumerateArray().Select(c => c.GetString())) : string.Empty))
            .Order(StringComparer.Ordinal)];
}
