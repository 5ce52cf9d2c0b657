namespace Sync.Batches.Tests;

public sealed class CopyStreamReaderTests
{
    [Fact]
    public async Task Reads_every_tuple_of_a_stream_whatever_its_chunking()
    {
        var rows = Tuples.Rows(
            [Tuples.Int8(1), Tuples.Text("alpha")],
            [Tuples.Int8(2), null],
            [Tuples.Int8(3), Tuples.Text(new string('x', 5000))]);
        var stream = new MemoryStream([.. CopyFormat.Header, .. rows, .. CopyFormat.Trailer]);

        // A 7-byte buffer forces tuples to straddle reads and the buffer to grow.
        var reader = new CopyStreamReader(new TrickleStream(stream, 3), bufferSize: 7);
        var copied = new TupleBuffer();
        while (await reader.ReadAsync(CancellationToken.None))
        {
            copied.AppendTuple(reader.Current.Span);
        }

        Assert.Equal(3, copied.RowCount);
        Assert.Equal(rows, copied.ToArray());
    }

    [Fact]
    public async Task A_stream_cut_inside_a_tuple_is_an_error()
    {
        var rows = Tuples.Rows([Tuples.Int8(1), Tuples.Text("alpha")]);
        var stream = new MemoryStream([.. CopyFormat.Header, .. rows.AsSpan(0, rows.Length - 2)]);
        var reader = new CopyStreamReader(stream);

        await Assert.ThrowsAsync<InvalidDataException>(async () => await reader.ReadAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_stream_without_the_signature_is_refused()
    {
        var reader = new CopyStreamReader(new MemoryStream(new byte[64]));

        await Assert.ThrowsAsync<InvalidDataException>(async () => await reader.ReadAsync(CancellationToken.None));
    }

    /// <summary>Hands out at most a few bytes per read, as a slow socket would.</summary>
    private sealed class TrickleStream(Stream inner, int chunk) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => inner.Length;

        public override long Position { get => inner.Position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, Math.Min(count, chunk));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
