using System.Text.Json;
using Sync.EndToEnd.Tests.Infrastructure;

namespace Sync.EndToEnd.Tests;

/// <summary>
/// <c>syncctl verify</c> of a cdc job while it streams (issue 15: cdc jobs verify at a consistent point):
/// under continuous source writes, the changes in flight are not reported as differences, and a
/// destination row changed by hand still is.
/// </summary>
public sealed class CdcVerifyTests : IAsyncLifetime
{
    private const int Rows = 3_000;

    // The writer touches ids below this one (and deletes the next), so a key above it changes only by hand.
    private const int Written = 2_000;

    private const string Table = "cdc_verify";
    private readonly string _job = $"cdc_verify_{Guid.NewGuid().ToString("N")[..6]}";
    private SyncDeployment _deployment = null!;

    public async Task InitializeAsync()
    {
        _deployment = await CdcDeployment.CreateAsync("cdcverify");
        await OrdersTable.CreateAsync(_deployment.Source, Table);
        await OrdersTable.CreateAsync(_deployment.Destination, Table);
        await OrdersTable.SeedAsync(_deployment.Source, Table, first: 1, count: Rows);
        _deployment.WriteCdcJob($"{Table}.yml", _job, Table, batchSize: 200);
        await _deployment.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await using (_deployment)
        {
            await _deployment.ReleaseCdcSlotsAsync();
        }
    }

    [Fact]
    public async Task Changes_in_flight_are_not_differences_and_a_change_by_hand_is()
    {
        await _deployment.WaitForEqualAsync(Table, Table, order: "t.id");
        using var stop = new CancellationTokenSource();
        var writing = WriteAsync(stop.Token);
        JsonElement first, second;
        long written;
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(3));
            await OrdersTable.ExecuteAsync(_deployment.Destination, $"UPDATE {Table} SET note = 'changed by hand' WHERE id = 2500");
            first = await VerifyAsync();
            second = await VerifyAsync();
        }
        finally
        {
            await stop.CancelAsync();
            written = await writing;
        }

        Assert.True(first.GetProperty("outcome").GetString() == "Different" && first.GetProperty("exitCode").GetInt32() == 1, first.ToString());
        Assert.Equal(["different:2500:note"], Mismatches(first));
        Assert.Equal(["different:2500:note"], Mismatches(second));
        // The writes went on throughout: the verifications saw changes in flight.
        Assert.True(written > 20, $"{written} source transactions");
    }

    /// <summary>A source transaction of an update, a delete and an insert every few milliseconds until stopped; returns how many committed.</summary>
    private async Task<long> WriteAsync(CancellationToken stop)
    {
        await Task.Yield();
        var random = new Random(7);
        long transactions = 0;
        var next = 1_000_000L;
        while (!stop.IsCancellationRequested)
        {
            await OrdersTable.ExecuteAsync(_deployment.Source, $"""
                WITH u AS (UPDATE {Table} SET status = 'streamed', amount = amount + 1, updated_at = clock_timestamp() WHERE id = $1),
                     d AS (DELETE FROM {Table} WHERE id = $1 + 1)
                INSERT INTO {Table} (id, customer_id, status, amount, note, created_at, updated_at)
                VALUES ($2, 1, 'streamed', 1, 'new', now(), clock_timestamp())
                """, (long)random.Next(1, Written), next++);
            transactions++;
            try
            {
                await Task.Delay(5, stop);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        return transactions;
    }

    private async Task<JsonElement> VerifyAsync()
    {
        // A verification of a cdc job waits for its stream to pass the snapshot: longer than the 30 s of the deployment's client.
        using var http = new HttpClient { BaseAddress = _deployment.Http.BaseAddress, Timeout = TimeSpan.FromMinutes(5) };
        foreach (var header in _deployment.Http.DefaultRequestHeaders)
        {
            http.DefaultRequestHeaders.TryAddWithoutValidation(header.Key, header.Value);
        }

        using var response = await http.PostAsync($"/api/jobs/{_job}/verify", content: null);
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
