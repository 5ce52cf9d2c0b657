using Sync.Contracts;

namespace Sync.Connectors.Postgres.Verification;

/// <summary>The rows each side holds and, once the differing buckets' rows are classified, the keys that differ.</summary>
internal sealed class Comparison(VerifyPlan plan, long sourceRows, long destinationRows)
{
    private readonly SortedDictionary<string, KeyMismatch> _mismatches = new(StringComparer.Ordinal);

    /// <summary>The key texts found differing so far, of every kind.</summary>
    public IReadOnlyCollection<string> Keys => [.. _mismatches.Keys];

    public IReadOnlyCollection<string> ExtraKeys => [.. _mismatches.Where(m => m.Value.Kind == MismatchKinds.Extra).Select(m => m.Key)];

    public void Classify(IReadOnlyList<LeafRow> source, IReadOnlyList<LeafRow> destination)
    {
        var sourceByKey = source.ToLookup(r => r.KeyText, StringComparer.Ordinal);
        var destinationByKey = destination.ToLookup(r => r.KeyText, StringComparer.Ordinal);
        foreach (var key in sourceByKey.Select(g => g.Key).Union(destinationByKey.Select(g => g.Key), StringComparer.Ordinal))
        {
            var here = sourceByKey[key].ToList();
            var there = destinationByKey[key].ToList();
            var kind = (here.Count, there.Count) switch
            {
                var (inSource, inDestination) when inSource > 1 || inDestination > 1 => MismatchKinds.Duplicate,
                (1, 0) => MismatchKinds.Missing,
                (0, 1) => MismatchKinds.Extra,
                _ => here[0].Columns.SequenceEqual(there[0].Columns) ? null : MismatchKinds.Different,
            };
            if (kind is null)
            {
                continue;
            }

            var columns = kind == MismatchKinds.Different
                ? plan.Columns.Where((_, i) => here[0].Columns[i] != there[0].Columns[i]).ToList()
                : null;
            _mismatches[key] = new KeyMismatch(kind, plan.Reported((here.Count > 0 ? here : there)[0].Key), columns);
        }
    }

    public void Forget(IReadOnlySet<string> keys)
    {
        foreach (var key in keys)
        {
            _mismatches.Remove(key);
        }
    }

    /// <summary>The result; extra keys make it different only when the job deletes (a job that keeps deleted rows keeps them on purpose).</summary>
    public JobVerified ToResult(VerifyJob request, bool deletes, long durationMs)
    {
        var counts = _mismatches.Values.GroupBy(m => m.Kind).ToDictionary(g => g.Key, g => g.Count());
        int Count(string kind) => counts.GetValueOrDefault(kind);
        var differs = Count(MismatchKinds.Missing) + Count(MismatchKinds.Different) + Count(MismatchKinds.Duplicate) + (deletes ? Count(MismatchKinds.Extra) : 0) > 0;
        return new JobVerified(
            request.VerificationId,
            request.JobName,
            differs ? VerifyOutcome.Different : VerifyOutcome.Equal,
            null,
            sourceRows,
            destinationRows,
            Count(MismatchKinds.Missing),
            Count(MismatchKinds.Extra),
            Count(MismatchKinds.Different),
            Count(MismatchKinds.Duplicate),
            [.. _mismatches.Values.Take(PostgresVerifier.KeyLimit)],
            request.Job.Mode == Contracts.Jobs.SyncMode.Incremental ? request.Watermark : null,
            durationMs);
    }
}

/// <summary>The kinds of <see cref="KeyMismatch"/>.</summary>
public static class MismatchKinds
{
    public const string Missing = "missing";
    public const string Extra = "extra";
    public const string Different = "different";
    public const string Duplicate = "duplicate";
}
