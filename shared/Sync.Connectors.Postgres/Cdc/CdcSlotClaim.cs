using System.Globalization;
using System.Text.RegularExpressions;
using Npgsql;

namespace Sync.Connectors.Postgres.Cdc;

/// <summary>
/// Who may (re)create a cdc job's slot, so two first-run extractions (a redelivered ExtractBatches
/// while the first still copies, or a run older than the slot) never drop and recreate it under
/// each other: a new slot's snapshot would not be the one the run's accepted copy was read in, and
/// the changes between the two consistent points would be lost. A first run holds a session
/// advisory lock on the source (keyed by the slot name) from before it drops a stale slot until its
/// copy is read, and marks the publication with its run's fence and whether its copy is complete
/// (<c>COMMENT ON PUBLICATION</c>: a publication has no other place for it, and the Extractor has no
/// control database). Under the lock an extraction finding a slot that its own run finished copying
/// in, or that a later run made, leaves it alone; one finding an older run's slot, or its own run's
/// whose copy did not finish (its extraction died: its lock went with its session), makes it anew.
/// </summary>
public static partial class CdcSlotClaim
{
    /// <summary>Waits for the job's slot lock on <paramref name="connection"/>; release with <see cref="ReleaseAsync"/> (or by closing the session).</summary>
    public static async Task AcquireAsync(NpgsqlConnection connection, string jobName, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT pg_advisory_lock(hashtextextended($1, 7320513))", connection) { CommandTimeout = 0 };
        command.Parameters.Add(new NpgsqlParameter { Value = CdcSlot.NameOf(jobName) });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Releases the lock now: a pooled connection would otherwise keep it until its next use.</summary>
    public static async Task ReleaseAsync(NpgsqlConnection connection, string jobName)
    {
        await using var command = new NpgsqlCommand("SELECT pg_advisory_unlock(hashtextextended($1, 7320513))", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = CdcSlot.NameOf(jobName) });
        await command.ExecuteNonQueryAsync(CancellationToken.None);
    }

    /// <summary>
    /// Throws <see cref="CdcSlotTakenException"/> when the job's slot must be left as it is for a
    /// first run of fence <paramref name="fence"/>; call under the lock. Fence 0 (no run) always
    /// makes the slot anew.
    /// </summary>
    public static async Task CheckAsync(NpgsqlConnection connection, string jobName, long fence, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            """
            SELECT obj_description(p.oid, 'pg_publication')
            FROM pg_publication p
            WHERE p.pubname = $1 AND EXISTS (SELECT 1 FROM pg_replication_slots s WHERE s.slot_name = $1)
            """,
            connection);
        command.Parameters.Add(new NpgsqlParameter { Value = CdcSlot.NameOf(jobName) });
        if (fence <= 0 || await command.ExecuteScalarAsync(cancellationToken) is not string comment || Marker().Match(comment) is not { Success: true } mark)
        {
            return;
        }

        var owner = long.Parse(mark.Groups["fence"].Value, CultureInfo.InvariantCulture);
        var copied = mark.Groups["state"].Value == "copied";
        if (owner > fence)
        {
            throw new CdcSlotTakenException($"Replication slot {CdcSlot.NameOf(jobName)} was made by a later run (fence {owner}) than this one ({fence}); this extraction of an ended run stops.");
        }

        if (owner == fence && copied)
        {
            throw new CdcSlotTakenException($"Another extraction of this run (fence {fence}) already made replication slot {CdcSlot.NameOf(jobName)} and copied the table in its snapshot; this one stops and leaves the slot as it is.");
        }
    }

    /// <summary>Marks the publication with the run that makes the slot, and whether its copy is complete.</summary>
    public static async Task MarkAsync(NpgsqlConnection connection, string jobName, long fence, bool copied, CancellationToken cancellationToken)
    {
        // COMMENT takes a literal, not a parameter; the text is an integer and a fixed word.
        var text = string.Create(CultureInfo.InvariantCulture, $"sync fence {fence} {(copied ? "copied" : "copying")}");
        await using var command = new NpgsqlCommand($"COMMENT ON PUBLICATION {Sync.Jobs.SqlIdentifier.Quote(CdcSlot.NameOf(jobName))} IS '{text}'", connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    [GeneratedRegex("^sync fence (?<fence>[0-9]+) (?<state>copying|copied)$")]
    private static partial Regex Marker();
}

/// <summary>A first-run extraction found its job's slot made by another extraction that it must not undo; it ends without a result.</summary>
public sealed class CdcSlotTakenException(string message) : Exception(message);
