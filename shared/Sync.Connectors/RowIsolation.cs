namespace Sync.Connectors;

/// <summary>
/// Finds the rows of a batch that a destination refuses, given a way to try a range of rows that
/// either applies all of them or none: halves a failing range until single rows remain (whole
/// batch, halves, quarters…, left to right), so k bad rows among n cost O(k·log n) attempts and
/// every good row is applied exactly once.
/// </summary>
public static class RowIsolation
{
    /// <param name="count">Rows in the batch; the whole batch is known to fail.</param>
    /// <param name="attemptAsync">Applies rows [start, start + length) and returns null, or undoes them and returns why they failed.</param>
    /// <returns>Each refused row's index with its error, in row order.</returns>
    public static async Task<IReadOnlyList<(int Row, TError Error)>> IsolateAsync<TError>(
        int count, Func<int, int, CancellationToken, Task<TError?>> attemptAsync, CancellationToken cancellationToken, TError wholeBatchError)
        where TError : class
    {
        var refused = new List<(int, TError)>();
        // Ranges still to try, the next on top; the whole batch already failed with wholeBatchError.
        var pending = new Stack<(int Start, int Length, TError? KnownError)>();
        pending.Push((0, count, wholeBatchError));
        while (pending.TryPop(out var range))
        {
            var error = range.KnownError ?? await attemptAsync(range.Start, range.Length, cancellationToken);
            if (error is null)
            {
                continue;
            }

            if (range.Length == 1)
            {
                refused.Add((range.Start, error));
                continue;
            }

            var left = range.Length / 2;
            pending.Push((range.Start + left, range.Length - left, null));
            pending.Push((range.Start, left, null));
        }

        return refused;
    }
}
