using System.Buffers.Binary;
using System.Text;

namespace Sync.Batches.Tests;

public sealed class PgValueCastTests
{
    [Theory]
    [InlineData("42", 23, "42")]
    [InlineData(" -7 ", 20, "-7")]
    [InlineData("12345.6700", 1700, "12345.6700")]
    [InlineData("-0.0005", 1700, "-0.0005")]
    [InlineData("0", 1700, "0")]
    [InlineData("100000000", 1700, "100000000")]
    [InlineData("yes", 16, "true")]
    [InlineData(" keeps blanks ", 25, " keeps blanks ")]
    [InlineData("2024-03-01", 1082, "2024-03-01")]
    [InlineData("2024-03-01T12:34:56.5+02:00", 1184, "2024-03-01T10:34:56.500000+00:00")]
    [InlineData("0b9f0e1c-4a4e-4a4e-9d0a-1b2c3d4e5f60", 2950, "0b9f0e1c-4a4e-4a4e-9d0a-1b2c3d4e5f60")]
    public void Text_converts_to_the_binary_form_of_the_target_type(string text, uint target, string expected)
    {
        var binary = PgValueCast.Convert(PgTypes.Text, Encoding.UTF8.GetBytes(text), target);

        Assert.Equal(expected, PgValueText.Format(target, binary));
    }

    [Fact]
    public void A_binary_value_converts_through_its_text_form()
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(bytes, 1234);

        Assert.Equal("1234", Encoding.UTF8.GetString(PgValueCast.Convert(23, bytes, PgTypes.Text)));
        Assert.Equal("1234", PgValueText.Format(20, PgValueCast.Convert(23, bytes, 20)));
    }

    [Theory]
    [InlineData("x17", 23)]
    [InlineData("99999999999", 23)]
    [InlineData("1.5", 20)]
    [InlineData("12a", 1700)]
    [InlineData("maybe", 16)]
    [InlineData("2024-13-01", 1082)]
    public void A_value_that_does_not_convert_is_a_record_error(string text, uint target)
    {
        var error = Assert.Throws<ValueCastException>(() => PgValueCast.Convert(PgTypes.Text, Encoding.UTF8.GetBytes(text), target));

        Assert.Contains(text, error.Message, StringComparison.Ordinal);
    }
}
