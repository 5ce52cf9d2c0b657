using System.Buffers.Binary;

namespace Sync.Batches.Tests;

public sealed class PgValueTextTests
{
    [Fact]
    public void Timestamps_keep_their_microseconds()
    {
        // 2024-03-01 12:34:56.123456 UTC in microseconds since 2000-01-01.
        var micros = (long)(new DateTime(2024, 3, 1, 12, 34, 56, DateTimeKind.Utc) - new DateTime(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc)).TotalMicroseconds + 123_456;
        var bytes = new byte[8];
        BinaryPrimitives.WriteInt64BigEndian(bytes, micros);

        Assert.Equal("2024-03-01T12:34:56.123456+00:00", PgValueText.Format(1184, bytes));
        Assert.Equal("2024-03-01T12:34:56.123456", PgValueText.Format(1114, bytes));
    }

    [Theory]
    [InlineData(new short[] { 1, 2345 }, 1, 0x0000, 2, "12345.00")]
    [InlineData(new short[] { 12, 3400 }, 0, 0x4000, 4, "-12.3400")]
    [InlineData(new short[] { 5 }, -1, 0x0000, 4, "0.0005")]
    [InlineData(new short[0], 0, 0x0000, 0, "0")]
    public void Numerics_are_exact(short[] digits, short weight, int sign, short scale, string expected)
    {
        var bytes = new byte[8 + (2 * digits.Length)];
        BinaryPrimitives.WriteInt16BigEndian(bytes, (short)digits.Length);
        BinaryPrimitives.WriteInt16BigEndian(bytes.AsSpan(2), weight);
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(4), (ushort)sign);
        BinaryPrimitives.WriteInt16BigEndian(bytes.AsSpan(6), scale);
        for (var i = 0; i < digits.Length; i++)
        {
            BinaryPrimitives.WriteInt16BigEndian(bytes.AsSpan(8 + (2 * i)), digits[i]);
        }

        Assert.Equal(expected, PgValueText.Format(1700, bytes));
    }

    [Fact]
    public void Uuids_are_read_in_network_order()
    {
        var id = Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e");

        Assert.Equal("0f8fad5b-d9cb-469f-a165-70867728950e", PgValueText.Format(2950, id.ToByteArray(bigEndian: true)));
    }

    [Fact]
    public void Integers_and_text_round_trip()
    {
        Assert.Equal("-42", PgValueText.Format(20, Tuples.Int8(-42)));
        Assert.Equal("héllo", PgValueText.Format(25, Tuples.Text("héllo")));
    }
}
