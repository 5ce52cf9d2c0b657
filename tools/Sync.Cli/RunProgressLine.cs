using System.Globalization;
using System.Text.Json;

namespace Sync.Cli;

/// <summary>The live line of a followed run: state, batches and rows done, rows per second.</summary>
internal static class RunProgressLine
{
    public static string Format(JsonElement run, TimeSpan elapsed)
    {
        var state = run.GetProperty("state").GetString();
        var loaded = run.GetProperty("loadedBatches").GetInt32();
        var expected = run.TryGetProperty("expectedBatches", out var e) && e.ValueKind == JsonValueKind.Number ? e.GetInt32().ToString(CultureInfo.InvariantCulture) : "?";
        var rows = run.GetProperty("processed").GetInt64();
        var seconds = Math.Max(elapsed.TotalSeconds, 0.001);
        return string.Create(CultureInfo.InvariantCulture, $"{state,-10} batches {loaded}/{expected}  rows {rows}  {rows / seconds:0} rows/s");
    }

    public static bool IsFinished(string? state) => state is "Completed" or "Failed" or "Rejected";
}
