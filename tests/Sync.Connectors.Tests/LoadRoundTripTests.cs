using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Sync.Connectors.Postgres;
using Sync.Connectors.Resilience;
using Sync.Contracts;
using Sync.Contracts.Jobs;

namespace Sync.Connectors.Tests;

/// <summary>
/// What loading a cursor batch into PostgreSQL sends, counted by Npgsql's own trace (one activity per
/// command or batch of commands it executes): a round trip costs the Loader and PostgreSQL CPU on every
/// batch (issue 16), so the batch's inbox row, its run's fence, the staging table and its savepoint go
/// in one.
/// </summary>
public sealed class LoadRoundTripTests : IAsyncLifetime
{
    private static readonly JobSpec Job = new(
        "round_trips",
        new SourceSpec(SourceKind.Postgres, "db", "public.src", "updated_at", ["id"]),
        new TransformSpec([]),
        new DestinationSpec(DestinationKind.Postgres, "db", "public.dst", ["id"]),
        BatchSize: 10,
        Schedule: null);

    private ScratchDatabase _scratch = null!;
    private ConnectionCatalog _connections = null!;
    private ConnectorResilience _resilience = null!;

    public async Task InitializeAsync()
    {
        _scratch = await ScratchDatabase.CreateAsync("load_trips");
        await _scratch.ExecuteAsync("CREATE TABLE dst (id bigint PRIMARY KEY, updated_at timestamptz, total numeric, note text, day date)");
        _connections = _scratch.Catalog("db");
        _resilience = new ConnectorResilience(Options.Create(new ConnectorResilienceOptions()), NullLogger<ConnectorResilience>.Instance);
    }

    public async Task DisposeAsync()
    {
        await _connections.DisposeAsync();
        await _scratch.DropAsync();
    }

    [Fact]
    public async Task A_cursor_batch_loads_in_five_commands_and_counts_once()
    {
        var destination = new PostgresDestination(_connections, _resilience);
        var runId = Guid.NewGuid();
        var extractionId = Guid.NewGuid();
        // The first batch migrates the destination's sync schema and raises the run's fence.
        await destination.LoadAsync(new BatchToLoad(Job, runId, extractionId, 1, Rows(1), Fence: 1, LoadedBy: "test"), CancellationToken.None);

        var commands = new ConcurrentQueue<string>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Npgsql",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
            // The listener hears every Npgsql activity of the process, other test classes' included
            // (a parallel class's migration once made this count 12): only this database's count.
            ActivityStopped = activity =>
            {
                if (activity.TagObjects.Any(t => t.Value is string value && value == _scratch.Name))
                {
                    commands.Enqueue(activity.DisplayName);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        var second = await destination.LoadAsync(new BatchToLoad(Job, runId, extractionId, 2, Rows(11), Fence: 1, LoadedBy: "test"), CancellationToken.None);
        var replayed = await destination.LoadAsync(new BatchToLoad(Job, runId, extractionId, 2, Rows(11), Fence: 1, LoadedBy: "test"), CancellationToken.None);
        var loadCommands = commands.Count;

        // The fence check, the batch's first statements, COPY, merge, the inbox row; then the replay's
        // fence check and first statements, which find the batch applied.
        Assert.True(loadCommands is >= 5 and <= 7, $"{loadCommands} commands: {string.Join(" | ", commands)}");
        Assert.Equal((10, 10, 0), (second.Rows, second.Inserted, second.Updated));
        Assert.True(replayed.Replayed);
        Assert.Equal(20L, await _scratch.ScalarAsync("SELECT count(*) FROM dst"));
        Assert.Equal(2L, await _scratch.ScalarAsync("SELECT count(*) FROM sync.applied_batches"));
    }

    private static RecordBatch Rows(int first) =>
        SampleBatch.Of([.. Enumerable.Range(first, 10).Select(id => new[] { $"{id}", "2026-01-01 00:00:00+00", "1.50", $"row {id}", "2026-01-01" })]);
}
