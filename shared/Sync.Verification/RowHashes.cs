using System.Text;

namespace Sync.Verification;

/// <summary>
/// The hashes of a verification made in .NET (each engine's own hash functions differ): FNV-1a, 64
/// bits, over a key's or a row's normal-form text. The key's puts it in a bucket; a bucket's sum of
/// row hashes, as in SQL, sees a changed, missing or repeated row.
/// </summary>
internal static class RowHashes
{
    private const ulong Offset = 14695981039346656037;
    private const ulong Prime = 1099511628211;

    public static long Bucket(string keyText, long mask) => (long)(Hash(Offset, keyText) & (ulong)mask);

    public static decimal Row(string?[] columns)
    {
        var hash = Offset;
        foreach (var column in columns)
        {
            // A NULL and each column's end are marked apart from any text, so ("a", "b") is not ("ab", "").
            hash = column is null ? Mix(hash, '\u0001') : Mix(Hash(hash, column), '\u0000');
        }

        return hash;
    }

    /// <summary>The key as PostgreSQL prints an array of text (array_out), so the source can find it again as <c>ARRAY[…]::text</c>.</summary>
    public static string KeyText(string?[] key)
    {
        var text = new StringBuilder("{");
        for (var i = 0; i < key.Length; i++)
        {
            if (i > 0)
            {
                text.Append(',');
            }

            var value = key[i];
            if (value is null)
            {
                text.Append("NULL");
            }
            else if (value.Length == 0 || value.Equals("NULL", StringComparison.OrdinalIgnoreCase) || value.Any(c => c is '"' or '\\' or '{' or '}' or ',' || IsSpace(c)))
            {
                text.Append('"').Append(value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)).Append('"');
            }
            else
            {
                text.Append(value);
            }
        }

        return text.Append('}').ToString();
    }

    // PostgreSQL's array_out quotes on isspace(): space, \t, \n, \v, \f, \r.
    private static bool IsSpace(char c) => c is ' ' or '\t' or '\n' or '\v' or '\f' or '\r';

    private static ulong Hash(ulong hash, string text)
    {
        foreach (var c in text)
        {
            hash = Mix(hash, c);
        }

        return hash;
    }

    private static ulong Mix(ulong hash, char c)
    {
        hash = (hash ^ (byte)c) * Prime;
        return (hash ^ (byte)(c >> 8)) * Prime;
    }
}
