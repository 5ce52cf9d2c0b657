namespace Sync.Contracts.Jobs;

/// <summary>
/// A job's own verification (issue 15), the <c>verify:</c> section: compare destination and source
/// after every completed run and/or on a cron schedule, leaving out destination columns that are not
/// the source's to match (a load time, say).
/// </summary>
public sealed record VerifySpec(bool AfterRun, string? Schedule, IReadOnlyList<string> Ignore)
{
    /// <summary>No section: verified only on request, every written column compared.</summary>
    public static readonly VerifySpec OnRequest = new(false, null, []);
}
