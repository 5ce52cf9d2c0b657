using Sync.Contracts.Jobs;
using Sync.Expressions;

namespace Sync.Jobs;

/// <summary>What a job's transform reads from each record, so the Extractor reads exactly those source columns.</summary>
public static class TransformReads
{
    /// <summary>
    /// The source columns the mapping, its expressions, the filter and the lookup keys read, in first-use
    /// order, without the lookups' own names (those are added by the Transformer). Empty when
    /// <c>columns:</c> is absent: then every source column is read.
    /// </summary>
    public static IReadOnlyList<string> SourceColumns(TransformSpec transform)
    {
        if (transform.Columns.Count == 0)
        {
            return [];
        }

        var lookups = (transform.Lookups ?? []).Select(l => l.Name).ToHashSet(StringComparer.Ordinal);
        var reads = new List<string>();
        foreach (var mapping in transform.Columns)
        {
            reads.AddRange(mapping.Expression is { } expression ? Expression.Parse(expression).Columns : [mapping.Source]);
        }

        if (transform.Filter is { } filter)
        {
            reads.AddRange(Expression.Parse(filter).Columns);
        }

        reads.AddRange((transform.Lookups ?? []).Select(l => l.Key));
        return [.. reads.Where(c => !lookups.Contains(c)).Distinct(StringComparer.Ordinal)];
    }
}
