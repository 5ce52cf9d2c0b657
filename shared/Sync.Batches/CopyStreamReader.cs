namespace Sync.Batches;

/// <summary>
/// Reads a binary COPY stream (as <c>COPY … TO STDOUT (FORMAT BINARY)</c> sends it) one tuple at a
/// time through a reusable buffer, so memory stays at one buffer whatever the table's size.
/// </summary>
public sealed class CopyStreamReader(Stream stream, int bufferSize = 256 * 1024)
{
    private byte[] _buffer = new byte[bufferSize];
    private int _start;
    private int _end;
    private bool _headerRead;
    private bool _eof;

    /// <summary>The tuple read by the last successful <see cref="ReadAsync"/>; valid until the next call.</summary>
    public ReadOnlyMemory<byte> Current { get; private set; }

    public async ValueTask<bool> ReadAsync(CancellationToken cancellationToken)
    {
        if (!_headerRead)
        {
            await ReadHeaderAsync(cancellationToken);
        }

        while (true)
        {
            var length = CopyFormat.MeasureTuple(_buffer.AsSpan(_start, _end - _start), out _);
            if (length > 0)
            {
                Current = _buffer.AsMemory(_start, length);
                _start += length;
                return true;
            }

            if (length == 0)
            {
                Current = default;
                return false;
            }

            if (!await FillAsync(cancellationToken))
            {
                if (_end == _start)
                {
                    // Npgsql ends the raw stream after the trailer; a stream with no trailer is cut short.
                    return false;
                }

                throw new InvalidDataException("The COPY stream ended in the middle of a tuple.");
            }
        }
    }

    private async ValueTask ReadHeaderAsync(CancellationToken cancellationToken)
    {
        while (_end - _start < CopyFormat.SignatureLength + 8)
        {
            if (!await FillAsync(cancellationToken))
            {
                throw new InvalidDataException("The COPY stream ended before its header.");
            }
        }

        var header = _buffer.AsSpan(_start);
        if (!header[..CopyFormat.SignatureLength].SequenceEqual(CopyFormat.Header[..CopyFormat.SignatureLength]))
        {
            throw new InvalidDataException("Not a binary COPY stream: the signature does not match.");
        }

        var extensionLength = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(header[(CopyFormat.SignatureLength + 4)..]);
        var skip = CopyFormat.SignatureLength + 8 + extensionLength;
        while (_end - _start < skip)
        {
            if (!await FillAsync(cancellationToken))
            {
                throw new InvalidDataException("The COPY stream ended inside its header extension.");
            }
        }

        _start += skip;
        _headerRead = true;
    }

    private async ValueTask<bool> FillAsync(CancellationToken cancellationToken)
    {
        if (_eof)
        {
            return false;
        }

        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }

        if (_end == _buffer.Length)
        {
            Array.Resize(ref _buffer, _buffer.Length * 2);
        }

        var read = await stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken);
        if (read == 0)
        {
            _eof = true;
            return false;
        }

        _end += read;
        return true;
    }
}
