using System.Buffers.Binary;
using System.Text;

namespace Sync.Batches.Tests;

/// <summary>Builds COPY tuples from plain values for the tests.</summary>
internal static class Tuples
{
    public static byte[] Int8(long value)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteInt64BigEndian(bytes, value);
        return bytes;
    }

    public static byte[] Text(string value) => Encoding.UTF8.GetBytes(value);

    public static byte[] Rows(params byte[]?[][] rows)
    {
        var buffer = new TupleBuffer(16);
        foreach (var row in rows)
        {
            buffer.BeginTuple(row.Length);
            foreach (var field in row)
            {
                buffer.AppendField(field, field is null);
            }
        }

        return buffer.ToArray();
    }
}
