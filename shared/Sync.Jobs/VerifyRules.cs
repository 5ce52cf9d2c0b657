using Sync.Contracts.Jobs;

namespace Sync.Jobs;

/// <summary>Which jobs <c>syncctl verify</c> can compare (issue 15).</summary>
public static class VerifyRules
{
    /// <summary>
    /// Why a job cannot be verified by comparing SQL, or null: only a column mapping, casts and a
    /// PostgreSQL table or query into a PostgreSQL or DuckDB table can be; a column computed by an expression only
    /// when <c>verify.ignore</c> leaves it out. The verifier says so when asked, and
    /// a job file asking for its own verifications is refused with it.
    /// </summary>
    public static string? Refusal(JobSpec job) =>
        // An S3 destination's run is checked against its manifest and counts, not against the source.
        job.Destination.Kind == DestinationKind.S3 ? null
        : job.Source.Kind != SourceKind.Postgres ? $"source type {job.Source.Kind.ToString().ToLowerInvariant()} (only postgres sources can be verified)"
        : job.Destination.Kind is not (DestinationKind.Postgres or DestinationKind.DuckDb) ? $"destination type {job.Destination.Kind.ToString().ToLowerInvariant()} (only postgres, duckdb and s3 destinations can be verified)"
        : job.Transform.Code is { } code ? $"transform {code} (a C# transform changes records outside SQL)"
        : job.Transform.Filter is { } filter ? $"transform filter \"{filter}\" (an expression, not SQL)"
        : job.Transform.Lookups is [var lookup, ..] ? $"transform lookup {lookup.Name}"
        : job.Transform.Columns.FirstOrDefault(c => c.Expression is not null && !(job.Verify?.Ignore ?? []).Contains(c.Target, StringComparer.Ordinal)) is { } computed ? $"transform expression of column {computed.Target}"
        : job.Destination.Key.Count == 0 ? "the destination has no key"
        : null;
}
