namespace Sync.Connectors.Postgres.Verification;

/// <summary>
/// The text a column is compared as, so that a destination re-typed on purpose still matches its
/// source: numbers without trailing zeros of scale (numeric(12,4) 1.5000 = numeric 1.5; integer 2 = numeric 2.00),
/// timestamps in UTC at microseconds, json as jsonb text (key order and spacing), char(n) without
/// its padding. The form is chosen from the pair of types, so text keeps its trailing spaces
/// unless the other side is char(n).
/// </summary>
internal enum NormalForm
{
    Text,
    Integer,
    Number,
    Float,
    Timestamp,
    Json,
    Unpadded,
}

internal static class NormalForms
{
    private static readonly HashSet<uint> Integers = [20, 21, 23];
    private static readonly HashSet<uint> Numbers = [20, 21, 23, 1700];
    private static readonly HashSet<uint> Floats = [700, 701];
    private static readonly HashSet<uint> Timestamps = [1114, 1184];
    private static readonly HashSet<uint> Jsons = [114, 3802];
    private const uint Bpchar = 1042;

    public static NormalForm Of(uint source, uint destination) =>
        Integers.Contains(source) && Integers.Contains(destination) ? NormalForm.Integer
        : Numbers.Contains(source) && Numbers.Contains(destination) ? NormalForm.Number
        : (Floats.Contains(source) || Numbers.Contains(source)) && (Floats.Contains(destination) || Numbers.Contains(destination)) ? NormalForm.Float
        : Timestamps.Contains(source) && Timestamps.Contains(destination) ? NormalForm.Timestamp
        : Jsons.Contains(source) && Jsons.Contains(destination) ? NormalForm.Json
        : source == Bpchar || destination == Bpchar ? NormalForm.Unpadded
        : NormalForm.Text;

    // Measured on 1M orders-like rows: to_char and trim_scale on every column doubled the digest's
    // time; integers and timestamps rendered by their own output functions (DateStyle ISO, set by
    // the verifier) are as exact and cheaper.

    /// <summary>The SQL that renders <paramref name="expression"/> (of type <paramref name="oid"/>) in <paramref name="form"/>.</summary>
    public static string Render(NormalForm form, string expression, uint oid) => form switch
    {
        NormalForm.Number => $"trim_scale(({expression})::numeric)::text",
        // float4 widened to float8 shows its binary noise; both sides take the same path.
        NormalForm.Float => $"(({expression})::float8)::text",
        NormalForm.Timestamp => oid == 1184
            ? $"(({expression}) AT TIME ZONE 'UTC')::text"
            : $"({expression})::text",
        NormalForm.Json => $"(({expression})::jsonb)::text",
        NormalForm.Unpadded => $"rtrim(({expression})::text, ' ')",
        _ => $"({expression})::text",
    };
}
