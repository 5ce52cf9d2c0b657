using Sync.Contracts;

namespace Sync.Connectors;

/// <summary>What one extraction produced: batch and row counts and the position of the last row.</summary>
public sealed class ExtractionSummary
{
    public int BatchCount { get; private set; }

    public long RowCount { get; private set; }

    public CursorPosition? High { get; private set; }

    internal void Add(int rows, CursorPosition last)
    {
        BatchCount++;
        RowCount += rows;
        High = last;
    }

    internal void KeepAtLeast(CursorPosition position) => High = position;

    /// <summary>A batch of a source whose rows come in no guaranteed order: <paramref name="high"/> is the highest position so far, if any.</summary>
    internal void AddUnordered(int rows, CursorPosition? high)
    {
        BatchCount++;
        RowCount += rows;
        High = high ?? High;
    }
}
