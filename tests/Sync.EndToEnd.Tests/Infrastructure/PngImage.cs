using System.Buffers.Binary;
using System.IO.Compression;

namespace Sync.EndToEnd.Tests.Infrastructure;

/// <summary>
/// Just enough of a PNG decoder to check a screenshot: size from IHDR, and the pixels (8-bit RGB or
/// RGBA, non-interlaced, as Chromium writes them) to count how varied they are.
/// </summary>
public sealed class PngImage
{
    private static readonly byte[] Signature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    private PngImage(int width, int height, int channels, byte[] pixels)
    {
        Width = width;
        Height = height;
        Channels = channels;
        Pixels = pixels;
    }

    public int Width { get; }

    public int Height { get; }

    /// <summary>Bytes per pixel: 3 (RGB) or 4 (RGBA).</summary>
    public int Channels { get; }

    /// <summary>Unfiltered scanlines, <see cref="Width"/> × <see cref="Channels"/> bytes each.</summary>
    public byte[] Pixels { get; }

    public static PngImage Decode(byte[] png)
    {
        if (png.Length < 33 || !png.AsSpan(0, 8).SequenceEqual(Signature))
        {
            throw new InvalidDataException("Not a PNG: the signature is missing.");
        }

        int width = 0, height = 0, channels = 0;
        using var compressed = new MemoryStream();
        for (var offset = 8; offset + 12 <= png.Length;)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(offset));
            var type = System.Text.Encoding.ASCII.GetString(png, offset + 4, 4);
            var data = png.AsSpan(offset + 8, length);
            if (type == "IHDR")
            {
                width = BinaryPrimitives.ReadInt32BigEndian(data);
                height = BinaryPrimitives.ReadInt32BigEndian(data[4..]);
                channels = (data[8], data[9], data[12]) switch
                {
                    (8, 2, 0) => 3,
                    (8, 6, 0) => 4,
                    _ => throw new InvalidDataException($"Unsupported PNG: bit depth {data[8]}, colour type {data[9]}, interlace {data[12]}."),
                };
            }
            else if (type == "IDAT")
            {
                compressed.Write(data);
            }
            else if (type == "IEND")
            {
                break;
            }

            offset += 12 + length;
        }

        compressed.Position = 0;
        using var inflated = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionMode.Decompress))
        {
            zlib.CopyTo(inflated);
        }

        return new PngImage(width, height, channels, Unfilter(inflated.ToArray(), width, height, channels));
    }

    /// <summary>How many distinct colours, and the share of the pixels the most common one covers.</summary>
    public (int Colours, double DominantShare) Variety()
    {
        var counts = new Dictionary<int, int>();
        for (var i = 0; i + 2 < Pixels.Length; i += Channels)
        {
            var colour = (Pixels[i] << 16) | (Pixels[i + 1] << 8) | Pixels[i + 2];
            counts[colour] = counts.GetValueOrDefault(colour) + 1;
        }

        return (counts.Count, counts.Values.Max() / (double)(Width * Height));
    }

    // PNG filter types per scanline (RFC 2083, 6): none, sub, up, average, Paeth.
    private static byte[] Unfilter(byte[] data, int width, int height, int channels)
    {
        var stride = width * channels;
        var pixels = new byte[stride * height];
        for (var y = 0; y < height; y++)
        {
            var filter = data[y * (stride + 1)];
            var source = data.AsSpan(y * (stride + 1) + 1, stride);
            var line = pixels.AsSpan(y * stride, stride);
            var previous = y == 0 ? new byte[stride] : pixels.AsSpan((y - 1) * stride, stride);
            for (var x = 0; x < stride; x++)
            {
                int a = x >= channels ? line[x - channels] : 0, b = previous[x], c = x >= channels ? previous[x - channels] : 0;
                var predictor = filter switch
                {
                    0 => 0,
                    1 => a,
                    2 => b,
                    3 => (a + b) / 2,
                    4 => Paeth(a, b, c),
                    _ => throw new InvalidDataException($"Unknown PNG filter {filter} on line {y}."),
                };
                line[x] = (byte)(source[x] + predictor);
            }
        }

        return pixels;
    }

    private static int Paeth(int a, int b, int c)
    {
        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }
}
