using System.Buffers.Binary;

namespace Sync.Batches;

/// <summary>Framing of PostgreSQL's binary COPY format (see the COPY reference, "Binary Format").</summary>
public static class CopyFormat
{
    /// <summary>The 11-byte signature, then a zero flags field and a zero header-extension length.</summary>
    public static ReadOnlySpan<byte> Header =>
        [(byte)'P', (byte)'G', (byte)'C', (byte)'O', (byte)'P', (byte)'Y', (byte)'\n', 0xFF, (byte)'\r', (byte)'\n', 0, 0, 0, 0, 0, 0, 0, 0, 0];

    /// <summary>A tuple whose field count is -1 ends the data.</summary>
    public static ReadOnlySpan<byte> Trailer => [0xFF, 0xFF];

    public const int SignatureLength = 11;

    /// <summary>
    /// Length of the tuple at the start of <paramref name="data"/>, or -1 when <paramref name="data"/>
    /// does not hold all of it yet. Returns 0 for the trailer.
    /// </summary>
    public static int MeasureTuple(ReadOnlySpan<byte> data, out short fieldCount)
    {
        fieldCount = 0;
        if (data.Length < 2)
        {
            return -1;
        }

        fieldCount = BinaryPrimitives.ReadInt16BigEndian(data);
        if (fieldCount == -1)
        {
            return 0;
        }

        if (fieldCount < 0)
        {
            throw new InvalidDataException($"Corrupt COPY tuple: field count {fieldCount}.");
        }

        var offset = 2;
        for (var i = 0; i < fieldCount; i++)
        {
            if (data.Length < offset + 4)
            {
                return -1;
            }

            var length = BinaryPrimitives.ReadInt32BigEndian(data[offset..]);
            offset += 4;
            if (length > 0)
            {
                offset += length;
            }
            else if (length < -1)
            {
                throw new InvalidDataException($"Corrupt COPY tuple: field length {length}.");
            }

            if (offset > data.Length)
            {
                return -1;
            }
        }

        return offset;
    }
}
