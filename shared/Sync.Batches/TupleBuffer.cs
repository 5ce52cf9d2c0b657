using System.Buffers.Binary;

namespace Sync.Batches;

/// <summary>
/// A growable buffer of COPY tuples: the rows of one batch being built. Copies bytes in, never
/// encodes values, so building a batch costs a memcpy per row.
/// </summary>
public sealed class TupleBuffer(int initialCapacity = 128 * 1024)
{
    private byte[] _buffer = new byte[initialCapacity];

    public int Length { get; private set; }

    public int RowCount { get; private set; }

    public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, Length);

    /// <summary>Appends one whole tuple (field count included).</summary>
    public void AppendTuple(ReadOnlySpan<byte> tuple)
    {
        tuple.CopyTo(Reserve(tuple.Length));
        Length += tuple.Length;
        RowCount++;
    }

    /// <summary>Starts a tuple of <paramref name="fieldCount"/> fields; follow with exactly that many field appends.</summary>
    public void BeginTuple(int fieldCount)
    {
        BinaryPrimitives.WriteInt16BigEndian(Reserve(2), checked((short)fieldCount));
        Length += 2;
        RowCount++;
    }

    public void AppendField(ReadOnlySpan<byte> value, bool isNull)
    {
        if (isNull)
        {
            BinaryPrimitives.WriteInt32BigEndian(Reserve(4), -1);
            Length += 4;
            return;
        }

        var span = Reserve(4 + value.Length);
        BinaryPrimitives.WriteInt32BigEndian(span, value.Length);
        value.CopyTo(span[4..]);
        Length += 4 + value.Length;
    }

    public byte[] ToArray() => _buffer.AsSpan(0, Length).ToArray();

    public void Clear()
    {
        Length = 0;
        RowCount = 0;
    }

    private Span<byte> Reserve(int count)
    {
        if (Length + count > _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, Length + count));
        }

        return _buffer.AsSpan(Length, count);
    }
}
