using System.Collections.Frozen;

namespace Sync.Batches;

/// <summary>
/// The PostgreSQL types a batch may carry in their binary form, by OID, with the SQL name used
/// for a staging column. Anything else is read as text by the source, so no type name from a
/// message ever reaches SQL unless it is in this table.
/// </summary>
public static class PgTypes
{
    public const uint Text = 25;
    public const uint Timestamp = 1114;
    public const uint TimestampTz = 1184;
    public const uint Date = 1082;

    private static readonly FrozenDictionary<uint, string> Names = new Dictionary<uint, string>
    {
        [16] = "boolean",
        [17] = "bytea",
        [20] = "bigint",
        [21] = "smallint",
        [23] = "integer",
        [25] = "text",
        [114] = "json",
        [700] = "real",
        [701] = "double precision",
        [1042] = "bpchar",
        [1043] = "character varying",
        [1082] = "date",
        [1083] = "time without time zone",
        [1114] = "timestamp without time zone",
        [1184] = "timestamp with time zone",
        [1186] = "interval",
        [1266] = "time with time zone",
        [1700] = "numeric",
        [2950] = "uuid",
        [3802] = "jsonb",
        [869] = "inet",
        [650] = "cidr",
        [1000] = "boolean[]",
        [1005] = "smallint[]",
        [1007] = "integer[]",
        [1016] = "bigint[]",
        [1009] = "text[]",
        [1015] = "character varying[]",
        [1021] = "real[]",
        [1022] = "double precision[]",
        [1231] = "numeric[]",
        [1115] = "timestamp without time zone[]",
        [1185] = "timestamp with time zone[]",
        [1182] = "date[]",
        [2951] = "uuid[]",
        [3807] = "jsonb[]",
    }.ToFrozenDictionary();

    public static bool IsSupported(uint oid) => Names.ContainsKey(oid);

    /// <summary>The SQL type name for a staging column of this OID.</summary>
    public static string SqlName(uint oid) =>
        Names.TryGetValue(oid, out var name)
            ? name
            : throw new NotSupportedException($"PostgreSQL type OID {oid} is not carried in binary form.");

    /// <summary>Types whose values can order a cursor or identify a row in a <see cref="Contracts.CursorPosition"/>.</summary>
    public static bool IsCursorType(uint oid) => oid is 20 or 21 or 23 or 25 or 1043 or 1042 or 1082 or 1114 or 1184 or 1700 or 2950;
}
