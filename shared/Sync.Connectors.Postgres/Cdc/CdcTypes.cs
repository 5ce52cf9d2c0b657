using Npgsql;
using Sync.Batches;

namespace Sync.Connectors.Postgres.Cdc;

/// <summary>
/// How each column of a cdc job travels. pgoutput with binary: true sends every value in its type's
/// send format, whatever the type. A domain sends as its base type, and an enum as text (enum_send and
/// textsend both send the label's bytes; checked on PostgreSQL 15), so those travel in binary as they
/// are, typed as that type; an array of them as the array of that type, with the element OID in its
/// header rewritten (array_send writes the domain's or enum's OID, which the destination need not
/// know). Any other type <see cref="PgTypes"/> does not carry (a composite, whose send format names
/// its fields' OIDs; tsvector, a range, money…) travels as text, as mode: incremental reads it: ::text
/// in the copy, and turned into text by the source server in the stream (<see cref="TextConversion"/>).
/// </summary>
internal static class CdcTypes
{
    public static async Task<(SourcePlan Plan, ValueCarry[] Carries)> ResolveAsync(NpgsqlConnection connection, SourcePlan plan, CancellationToken cancellationToken)
    {
        var columns = new List<SourceColumn>(plan.Columns.Count);
        var carries = new ValueCarry[plan.Columns.Count];
        foreach (var column in plan.Columns)
        {
            if (column.IsBinary)
            {
                columns.Add(column);
                continue;
            }

            var resolved = await CarriedAsync(connection, column.TypeOid, depth: 0, cancellationToken);
            if (resolved is { } carried)
            {
                carries[columns.Count] = new ValueCarry(carried.Element, AsText: false);
                columns.Add(column with { IsBinary = true, CarriedAs = carried.Oid });
            }
            else
            {
                carries[columns.Count] = new ValueCarry(0, AsText: true);
                columns.Add(column);
            }
        }

        return (new SourcePlan(columns, plan.PositionLength), carries);
    }

    /// <summary>The binary type a value of <paramref name="oid"/> travels as, and for an array the element OID its header must name; null: as text.</summary>
    private static async Task<(uint Oid, uint Element)?> CarriedAsync(NpgsqlConnection connection, uint oid, int depth, CancellationToken cancellationToken)
    {
        if (PgTypes.IsSupported(oid))
        {
            return (oid, 0);
        }

        if (depth > 16 || await ReadTypeAsync(connection, oid, cancellationToken) is not { } type)
        {
            return null;
        }

        switch (type.Kind)
        {
            case "d":
                return await CarriedAsync(connection, type.BaseType, depth + 1, cancellationToken);
            case "e":
                return (PgTypes.Text, 0);
            case "b" when type.Category == "A" && type.Element != 0:
                if (await CarriedAsync(connection, type.Element, depth + 1, cancellationToken) is not { Element: 0 } element
                    || await ReadTypeAsync(connection, element.Oid, cancellationToken) is not { } elementType
                    || !PgTypes.IsSupported(elementType.Array))
                {
                    return null;
                }

                return (elementType.Array, element.Oid);
            default:
                return null;
        }
    }

    private static async Task<PgType?> ReadTypeAsync(NpgsqlConnection connection, uint oid, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            "SELECT typtype::text, typbasetype, typelem, typcategory::text, typarray FROM pg_type WHERE oid = $1", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = oid, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Oid });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        return new PgType(reader.GetString(0), reader.GetFieldValue<uint>(1), reader.GetFieldValue<uint>(2), reader.GetString(3), reader.GetFieldValue<uint>(4));
    }

    private sealed record PgType(string Kind, uint BaseType, uint Element, string Category, uint Array);
}

/// <summary>How a streamed value becomes a batch value: as it is, with its array header's element OID rewritten (when not 0), or as text.</summary>
internal readonly record struct ValueCarry(uint ArrayElement, bool AsText);
