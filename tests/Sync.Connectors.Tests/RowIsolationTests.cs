namespace Sync.Connectors.Tests;

/// <summary>The halving search that finds the rows a destination refuses (the Loader's row isolation).</summary>
public sealed class RowIsolationTests
{
    [Theory]
    [InlineData(1000, new[] { 17 })]
    [InlineData(1000, new[] { 0, 999 })]
    [InlineData(200, new[] { 32, 33, 149, 150, 199 })]
    [InlineData(7, new[] { 0, 1, 2, 3, 4, 5, 6 })]
    [InlineData(1, new[] { 0 })]
    public async Task Every_bad_row_is_refused_and_every_good_row_applied_once(int count, int[] bad)
    {
        var applied = new List<int>();
        var attempts = 0;

        var refused = await RowIsolation.IsolateAsync(count, (start, length, _) =>
        {
            attempts++;
            var rows = Enumerable.Range(start, length).ToList();
            if (rows.Any(bad.Contains))
            {
                return Task.FromResult<string?>($"row {rows.First(bad.Contains)}");
            }

            applied.AddRange(rows);
            return Task.FromResult<string?>(null);
        }, CancellationToken.None, wholeBatchError: "the whole batch");

        Assert.Equal(bad, refused.Select(r => r.Row));
        Assert.Equal(bad.Select(b => count == 1 ? "the whole batch" : $"row {b}"), refused.Select(r => r.Error));
        Assert.Equal(Enumerable.Range(0, count).Except(bad), applied.Order());
        // O(k·log n): at most two attempts per level of halving for each bad row.
        Assert.True(attempts <= 2 * bad.Length * (int)Math.Ceiling(Math.Log2(Math.Max(2, count))), $"{attempts} attempts");
    }
}
