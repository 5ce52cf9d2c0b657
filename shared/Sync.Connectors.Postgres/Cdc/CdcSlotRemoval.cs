using Npgsql;
using Sync.Jobs;

namespace Sync.Connectors.Postgres.Cdc;

/// <summary>
/// Drops the replication slot and publication of a cdc job that is gone, even while a run still
/// streams from the slot: PostgreSQL refuses to drop an active slot (55006, "is active for PID"),
/// so the walsender holding it is ended with <c>pg_terminate_backend(active_pid)</c> and the drop is
/// tried again until the slot is released. Only for a job that no longer exists: its stream has no
/// one left to load it.
/// </summary>
public static class CdcSlotRemoval
{
    private const string ObjectInUse = "55006";

    /// <summary>Attempts before giving up on a slot that stays active (100 ms apart).</summary>
    public const int DropAttempts = 100;

    /// <summary>Drops <paramref name="slot"/> and <paramref name="publication"/> where they exist; true when the slot existed.</summary>
    public static async Task<bool> DropAsync(NpgsqlConnection connection, string slot, string publication, CancellationToken cancellationToken)
    {
        var existed = false;
        for (var attempt = 1; ; attempt++)
        {
            var state = await ReadSlotAsync(connection, slot, cancellationToken);
            if (state is null)
            {
                break;
            }

            existed = true;
            if (state is { Active: true, Pid: { } pid })
            {
                await using var terminate = new NpgsqlCommand("SELECT pg_terminate_backend($1)", connection);
                terminate.Parameters.Add(new NpgsqlParameter { Value = pid });
                await terminate.ExecuteNonQueryAsync(cancellationToken);
            }
            else
            {
                try
                {
                    await using var drop = new NpgsqlCommand("SELECT pg_drop_replication_slot($1)", connection);
                    drop.Parameters.Add(new NpgsqlParameter { Value = slot });
                    await drop.ExecuteNonQueryAsync(cancellationToken);
                    break;
                }
                catch (PostgresException exception) when (exception.SqlState is ObjectInUse or PostgresErrorCodes.UndefinedObject)
                {
                    // Taken again between the read and the drop, or dropped by someone else: look again.
                }
            }

            if (attempt >= DropAttempts)
            {
                throw new InvalidOperationException($"Replication slot {slot} stayed in use after {DropAttempts} attempts to end its reader.");
            }

            // The terminated walsender releases the slot as it exits, a moment after the signal.
            await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken);
        }

        await using var dropPublication = new NpgsqlCommand($"DROP PUBLICATION IF EXISTS {SqlIdentifier.Quote(publication)}", connection);
        await dropPublication.ExecuteNonQueryAsync(cancellationToken);
        return existed;
    }

    private static async Task<(bool Active, int? Pid)?> ReadSlotAsync(NpgsqlConnection connection, string slot, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT active, active_pid FROM pg_replication_slots WHERE slot_name = $1", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = slot });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        return (reader.GetBoolean(0), reader.IsDBNull(1) ? null : reader.GetInt32(1));
    }
}
