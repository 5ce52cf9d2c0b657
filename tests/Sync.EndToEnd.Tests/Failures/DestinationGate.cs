using Npgsql;
using Sync.EndToEnd.Tests.Infrastructure;

namespace Sync.EndToEnd.Tests.Failures;

/// <summary>
/// Holds back the batch that carries one row in the destination: a trigger on the row waits on an
/// advisory lock that the gate holds until <see cref="OpenAsync"/>. Closed on the source's newest
/// row, it keeps a run from completing however fast the machine, so a fault injected while it is
/// closed lands mid-run without a source big enough to outlast the test's reaction time.
/// </summary>
internal sealed class DestinationGate : IAsyncDisposable
{
    // Advisory locks are per database, and each deployment has its own destination database.
    private const long LockKey = 4343;
    private readonly NpgsqlConnection _holder;
    private bool _open;

    private DestinationGate(NpgsqlConnection holder) => _holder = holder;

    /// <summary>Closes the gate on the row of <paramref name="table"/> with the newest cursor in the source (call after the source changed).</summary>
    public static async Task<DestinationGate> CloseOnNewestRowAsync(string source, string destination, string table)
    {
        var id = Convert.ToInt64(await OrdersTable.ScalarAsync(source, $"SELECT id FROM {table} ORDER BY updated_at DESC, id DESC LIMIT 1"));
        // Unpooled: a pooled session would keep the lock after the gate is disposed.
        var holder = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(destination) { Pooling = false }.ConnectionString);
        await holder.OpenAsync();
        await using (var hold = new NpgsqlCommand($"SELECT pg_advisory_lock({LockKey})", holder))
        {
            await hold.ExecuteNonQueryAsync();
        }

        await OrdersTable.ExecuteAsync(destination, $"""
            CREATE OR REPLACE FUNCTION test_gate() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_advisory_xact_lock_shared({LockKey}); RETURN NEW; END $$;
            CREATE OR REPLACE TRIGGER test_gate BEFORE INSERT ON {table} FOR EACH ROW WHEN (NEW.id = {id}) EXECUTE FUNCTION test_gate();
            """);
        return new DestinationGate(holder);
    }

    /// <summary>Lets the held batch (and any later attempt at it) through.</summary>
    public async Task OpenAsync()
    {
        if (_open)
        {
            return;
        }

        await using (var release = new NpgsqlCommand($"SELECT pg_advisory_unlock({LockKey})", _holder))
        {
            await release.ExecuteNonQueryAsync();
        }

        _open = true;
    }

    public async ValueTask DisposeAsync()
    {
        // Closing the session releases its advisory lock, opened or not.
        await _holder.DisposeAsync();
    }
}
