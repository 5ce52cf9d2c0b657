using Npgsql;
using Sync.Batches;
using Sync.Contracts;

namespace Sync.Connectors.Postgres;

/// <summary>Compares two positions in the source's own (cursor, primary key…) order, as the source's types order them.</summary>
internal static class LookbackPosition
{
    public static async Task<bool> IsBeforeAsync(NpgsqlConnection connection, SourcePlan plan, CursorPosition position, CursorPosition other, CancellationToken cancellationToken)
    {
        // A watermark set by hand holds the cursor's value alone: compare as many values as both have.
        var columns = plan.Columns.Take(Math.Min(plan.PositionLength, Math.Min(position.Values.Count, other.Values.Count))).ToList();
        var left = string.Join(", ", columns.Select((c, i) => $"CAST(${i + 1} AS {PgTypes.SqlName(c.ValueTypeOid)})"));
        var right = string.Join(", ", columns.Select((c, i) => $"CAST(${columns.Count + i + 1} AS {PgTypes.SqlName(c.ValueTypeOid)})"));
        await using var command = new NpgsqlCommand($"SELECT ({left}) < ({right})", connection);
        foreach (var value in position.Values.Take(columns.Count).Concat(other.Values.Take(columns.Count)))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }

        return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
    }
}
