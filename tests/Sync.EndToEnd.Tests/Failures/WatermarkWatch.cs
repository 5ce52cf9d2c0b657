using Npgsql;
using Sync.EndToEnd.Tests.Infrastructure;

namespace Sync.EndToEnd.Tests.Failures;

/// <summary>
/// Reads a job's watermark over and over while a fault is under way. The watermark commits with the
/// run's end (I3), so every reading where it has left <c>committed</c> must, in the same snapshot,
/// show a run completed since the watch began. Readings that fail (PostgreSQL is down) are skipped.
/// </summary>
internal sealed class WatermarkWatch : IAsyncDisposable
{
    private readonly string _control;
    private readonly string _job;
    private readonly string? _committed;
    private readonly long _completedBefore;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<string> _violations = [];
    private Task _watching = Task.CompletedTask;

    private WatermarkWatch(string control, string job, string? committed, long completedBefore)
    {
        _control = control;
        _job = job;
        _committed = committed;
        _completedBefore = completedBefore;
    }

    public int Readings { get; private set; }

    public static async Task<WatermarkWatch> StartAsync(SyncDeployment deployment, string job)
    {
        var (committed, completed) = await ReadAsync(deployment.Control, job, CancellationToken.None);
        var watch = new WatermarkWatch(deployment.Control, job, committed, completed);
        watch._watching = Task.Run(watch.WatchAsync);
        return watch;
    }

    /// <summary>Stops watching and fails if the watermark ever moved without a run completing.</summary>
    public async Task AssertNeverMovedAheadOfARunAsync()
    {
        await StopAsync();
        Assert.True(Readings > 0, "The watermark was never read.");
        Assert.True(_violations.Count == 0, "The watermark moved while no run had completed: " + string.Join("; ", _violations.Take(5)));
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stop.Dispose();
    }

    private async Task StopAsync()
    {
        if (!_stop.IsCancellationRequested)
        {
            await _stop.CancelAsync();
        }

        await _watching;
    }

    private async Task WatchAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                var (cursor, completed) = await ReadAsync(_control, _job, _stop.Token);
                Readings++;
                if (cursor != _committed && completed == _completedBefore)
                {
                    _violations.Add($"watermark {cursor} (was {_committed}) with no run completed");
                }

                await Task.Delay(50, _stop.Token);
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception) when (exception is NpgsqlException or InvalidOperationException or TimeoutException)
            {
                // PostgreSQL is restarting: nothing to read, nothing can move either.
                await Task.Delay(100, CancellationToken.None);
            }
        }
    }

    // One statement, one snapshot: the watermark and the run that committed it are seen together.
    private static async Task<(string? Cursor, long Completed)> ReadAsync(string control, string job, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(control);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            """
            SELECT (SELECT cursor::text FROM sync_watermarks WHERE key = $1),
                   (SELECT count(*) FROM sync_runs WHERE job_name = $1 AND current_state = 'Completed')
            """,
            connection);
        command.Parameters.Add(new NpgsqlParameter { Value = job });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return (reader.IsDBNull(0) ? null : reader.GetString(0), reader.GetInt64(1));
    }
}
