using Npgsql;
using Sync.EndToEnd.Tests.Infrastructure;

namespace Sync.EndToEnd.Tests.Failures;

/// <summary>
/// Holds an extraction at a chosen row of its source: a job's <c>query:</c> calls
/// <c>test_source_gate(condition)</c>, which for a row where the condition holds waits on an advisory
/// lock of the source database that the gate holds until <see cref="OpenAsync"/>. The extraction then
/// waits inside its own query, as on a slow source, for as long as the test needs, without sleeps.
/// </summary>
internal sealed class SourceGate : IAsyncDisposable
{
    // Advisory locks are per database, and each deployment has its own source database.
    private const long LockKey = 4344;
    private readonly NpgsqlConnection _holder;
    private readonly string _source;
    private bool _open;

    private SourceGate(NpgsqlConnection holder, string source)
    {
        _holder = holder;
        _source = source;
    }

    /// <summary>Creates <c>test_source_gate(boolean)</c> in the source database (before the services start).</summary>
    public static Task CreateFunctionAsync(string source) =>
        OrdersTable.ExecuteAsync(source, $"""
            CREATE OR REPLACE FUNCTION test_source_gate(hold boolean) RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$
            BEGIN
                IF hold THEN PERFORM pg_advisory_xact_lock_shared({LockKey}); END IF;
                RETURN true;
            END $$
            """);

    public static async Task<SourceGate> CloseAsync(string source)
    {
        // Unpooled: a pooled session would keep the lock after the gate is disposed.
        var holder = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(source) { Pooling = false }.ConnectionString);
        await holder.OpenAsync();
        await using (var hold = new NpgsqlCommand($"SELECT pg_advisory_lock({LockKey})", holder))
        {
            await hold.ExecuteNonQueryAsync();
        }

        return new SourceGate(holder, source);
    }

    /// <summary>Waits until a query of the source waits at the gate.</summary>
    public async Task WaitUntilReachedAsync(Func<string> logs)
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (DateTime.UtcNow < deadline)
        {
            var waiting = await OrdersTable.ScalarAsync(_source, $"""
                SELECT EXISTS (SELECT 1 FROM pg_locks l JOIN pg_database d ON d.oid = l.database
                               WHERE d.datname = current_database() AND l.locktype = 'advisory' AND l.objid = {LockKey} AND NOT l.granted)
                """);
            if (waiting is true)
            {
                return;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"No extraction reached the source gate.\n{logs()}");
    }

    /// <summary>Lets the held query (and any later one) through.</summary>
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
