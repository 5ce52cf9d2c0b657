using System.Text;

namespace Sync.Jobs;

/// <summary>Shows a user's value inside an error message: quoted, escaped, and cut short.</summary>
internal static class ValueText
{
    private const int MaxShown = 60;

    public static string Show(string value)
    {
        var text = value.Length > MaxShown ? value[..MaxShown] + "…" : value;
        var builder = new StringBuilder("\"");
        foreach (var c in text)
        {
            builder.Append(c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                _ when char.IsControl(c) => $"\\u{(int)c:x4}",
                _ => c.ToString(),
            });
        }

        return builder.Append('"').ToString();
    }
}
