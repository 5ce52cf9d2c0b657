using Sync.Batches;
using Sync.Contracts;
using Sync.Contracts.Jobs;
using Sync.Jobs;

namespace Sync.Connectors.Postgres;

/// <summary>
/// What the Extractor reads for a job, resolved against the live source schema: the columns
/// (cursor and primary key first, as positions are read from them), and how each travels.
/// </summary>
public sealed record SourcePlan(IReadOnlyList<SourceColumn> Columns, int PositionLength)
{
    public IReadOnlyList<BatchColumn> BatchColumns { get; } = [.. Columns.Select(c => new BatchColumn(c.Name, c.BatchTypeOid))];

    public static SourcePlan Resolve(SourceSpec source, TransformSpec transform, IReadOnlyList<TableColumn> table)
    {
        var byName = table.ToDictionary(c => c.Name, StringComparer.Ordinal);
        var wanted = new List<string> { source.Cursor };
        wanted.AddRange(source.PrimaryKey.Where(k => !wanted.Contains(k)));

        // The cursor may itself be (part of) the key, e.g. cursor: id with primary_key: [id].
        var positionLength = wanted.Count;
        IEnumerable<string> rest = transform.Columns.Count == 0
            ? table.Select(c => c.Name)
            : TransformReads.SourceColumns(transform);
        wanted.AddRange(rest.Where(name => !wanted.Contains(name)).Distinct());

        var columns = new List<SourceColumn>(wanted.Count);
        foreach (var name in wanted)
        {
            if (!SqlIdentifier.IsValid(name))
            {
                throw new SourceSchemaException(
                    $"Column \"{name}\" of {PostgresSchema.SourceName(source)} is not a plain identifier; list the columns to sync under columns: with a view or query that renames it (in a query: AS a plain name).");
            }

            if (!byName.TryGetValue(name, out var column))
            {
                throw new SourceSchemaException($"{(source.Query is null ? $"Source table {source.Table}" : "The source query")} has no column \"{name}\".");
            }

            // A domain's values are its base type's (binary COPY and pgoutput send them with the base
            // type's send function), so a domain over a type carried in binary travels as that type, and
            // can be a cursor or key: Pagila's year, or an id domain.
            columns.Add(!PgTypes.IsSupported(column.TypeOid) && PgTypes.IsSupported(column.DomainBase)
                ? new SourceColumn(name, column.TypeOid, IsBinary: true) { CarriedAs = column.DomainBase }
                : new SourceColumn(name, column.TypeOid, PgTypes.IsSupported(column.TypeOid)));
        }

        foreach (var position in columns.Take(positionLength))
        {
            if (!position.IsBinary || !PgTypes.IsCursorType(position.ValueTypeOid))
            {
                var type = byName[position.Name];
                throw new SourceSchemaException(
                    $"Column \"{position.Name}\" of {PostgresSchema.SourceName(source)} has type {type.TypeName} (OID {type.TypeOid}{(type.DomainBase == 0 ? string.Empty : $", a domain over OID {type.DomainBase}")}), which cannot order a cursor or identify a row; " +
                    "use a timestamp, integer, numeric, text or uuid column (or a domain over one).");
            }
        }

        if (source.Lookback > TimeSpan.Zero && columns[0].ValueTypeOid is not (PgTypes.Timestamp or PgTypes.TimestampTz or PgTypes.Date))
        {
            throw new SourceSchemaException(
                $"source.lookback needs a timestamp or date cursor, but \"{source.Cursor}\" of {PostgresSchema.SourceName(source)} has type OID {columns[0].ValueTypeOid}; remove lookback or use a timestamp column as cursor.");
        }

        return new SourcePlan(columns, positionLength);
    }

    /// <summary>The position of a row, read from its first <see cref="PositionLength"/> fields.</summary>
    public CursorPosition PositionOf(ReadOnlySpan<byte> rows, ReadOnlySpan<FieldSlice> fields)
    {
        var values = new string[PositionLength];
        for (var i = 0; i < PositionLength; i++)
        {
            if (fields[i].IsNull)
            {
                throw new SourceSchemaException($"Column \"{Columns[i].Name}\" is null in a source row; cursor and primary-key columns must not be null.");
            }

            values[i] = PgValueText.Format(Columns[i].ValueTypeOid, fields[i].Of(rows));
        }

        return new CursorPosition(values);
    }
}

/// <summary>A source column; one whose type is not carried in binary form is read as text.</summary>
public sealed record SourceColumn(string Name, uint TypeOid, bool IsBinary)
{
    /// <summary>
    /// The binary type a column travels as when that is not its own type (mode: cdc): a domain's base
    /// type, text for an enum, an array of those for an array of them. The copy casts to it.
    /// </summary>
    public uint? CarriedAs { get; init; }

    /// <summary>The type of the column's values as read in binary: <see cref="CarriedAs"/> when set, else its own.</summary>
    public uint ValueTypeOid => CarriedAs ?? TypeOid;

    public uint BatchTypeOid => IsBinary ? CarriedAs ?? TypeOid : PgTypes.Text;
}
