using System.Buffers.Binary;

namespace Sync.Batches;

/// <summary>Walks the tuples of a <see cref="Contracts.RecordBatch"/>'s rows without copying them.</summary>
public ref struct TupleReader
{
    private readonly ReadOnlySpan<byte> _rows;
    private int _offset;

    public TupleReader(ReadOnlySpan<byte> rows)
    {
        _rows = rows;
        _offset = 0;
    }

    /// <summary>Reads the next tuple's field boundaries into <paramref name="fields"/> (offset into the rows, length; -1 for null).</summary>
    public bool TryRead(Span<FieldSlice> fields, out int fieldCount, out Range tuple)
    {
        tuple = default;
        fieldCount = 0;
        if (_offset >= _rows.Length)
        {
            return false;
        }

        var start = _offset;
        fieldCount = BinaryPrimitives.ReadInt16BigEndian(_rows[_offset..]);
        if (fieldCount > fields.Length)
        {
            throw new InvalidDataException($"A tuple has {fieldCount} fields; the batch schema has {fields.Length}.");
        }

        _offset += 2;
        for (var i = 0; i < fieldCount; i++)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(_rows[_offset..]);
            _offset += 4;
            fields[i] = new FieldSlice(_offset, length);
            if (length > 0)
            {
                _offset += length;
            }
        }

        tuple = start.._offset;
        return true;
    }
}

/// <summary>Where a field's value sits in a batch's rows; <see cref="Length"/> is -1 for SQL null.</summary>
public readonly record struct FieldSlice(int Offset, int Length)
{
    public bool IsNull => Length < 0;

    public ReadOnlySpan<byte> Of(ReadOnlySpan<byte> rows) => IsNull ? default : rows.Slice(Offset, Length);
}
