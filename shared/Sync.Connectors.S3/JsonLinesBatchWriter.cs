using System.Globalization;
using System.Text.Json;

namespace Sync.Connectors.S3;

/// <summary>
/// Writes decoded rows as JSON lines, one object per row with the batch's column names in order.
/// Numerics are written as JSON numbers with their exact digits, timestamps as ISO 8601 UTC with
/// microseconds, bytea as base64, jsonb and json as their text.
/// </summary>
internal static class JsonLinesBatchWriter
{
    private static readonly byte[] NewLine = "\n"u8.ToArray();

    public static byte[] Write(TypedRows rows)
    {
        using var stream = new MemoryStream();
        foreach (var row in rows.Rows)
        {
            using (var writer = new Utf8JsonWriter(stream))
            {
                writer.WriteStartObject();
                for (var i = 0; i < row.Length; i++)
                {
                    writer.WritePropertyName(rows.Columns[i].Name);
                    WriteValue(writer, row[i]);
                }

                writer.WriteEndObject();
            }

            stream.Write(NewLine);
        }

        return stream.ToArray();
    }

    private static void WriteValue(Utf8JsonWriter writer, object? value)
    {
        switch (value)
        {
            case null:
                writer.WriteNullValue();
                break;
            case bool b:
                writer.WriteBooleanValue(b);
                break;
            case short or int or long or decimal:
                writer.WriteRawValue(Convert.ToString(value, CultureInfo.InvariantCulture)!);
                break;
            // JSON has no NaN or infinity: those are written as strings, as PostgreSQL spells them.
            case float f when float.IsFinite(f):
                writer.WriteNumberValue(f);
                break;
            case double d when double.IsFinite(d):
                writer.WriteNumberValue(d);
                break;
            case DateTime t:
                writer.WriteStringValue(t.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture));
                break;
            case DateOnly d:
                writer.WriteStringValue(d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
                break;
            case TimeOnly t:
                writer.WriteStringValue(t.ToString("HH:mm:ss.ffffff", CultureInfo.InvariantCulture));
                break;
            case byte[] bytes:
                writer.WriteBase64StringValue(bytes);
                break;
            default:
                writer.WriteStringValue(Convert.ToString(value, CultureInfo.InvariantCulture));
                break;
        }
    }
}
