using Sync.Batches;
using Sync.Contracts;
using Sync.Contracts.Jobs;

namespace Sync.Connectors.Postgres.Cdc;

/// <summary>
/// Gathers committed source transactions into batches of at most <c>batchSize</c> changes and
/// <c>batchBytes</c> bytes of encoded rows (a single larger change goes alone). A
/// transaction is not split across batches unless it alone exceeds either, so the changes of one
/// source transaction commit in one destination transaction where they fit. Within a batch only the
/// last change per key is kept (in commit order), so the Loader's merge and delete each touch a row once.
/// Its batches always carry operations: the Loader applies such batches of a run in sequence.
/// <para>
/// Every upsert of a batch carries the same columns (<see cref="RowChange.Shape"/>): a change that
/// leaves some out (an unchanged TOASTed value) goes in a batch without them, so the ordinary merge
/// updates only the columns it has and the destination keeps the others. Where the batch holds an
/// earlier change of the same row, the values left out are taken from it. A change of another shape
/// starts a new batch (a transaction may then be split): batches apply in order, so the order of
/// changes to one row holds.
/// </para>
/// A truncate goes in a batch of its own.
/// </summary>
public sealed class ChangeBatcher(IReadOnlyList<BatchColumn> columns, int batchSize, int batchBytes = BatchLimits.DefaultBytes, string jobName = "")
{
    private readonly List<RowChange> _changes = [];
    private readonly Dictionary<string, int> _last = new(StringComparer.Ordinal);
    private BatchColumn?[]? _shape;
    private long _bytes;

    /// <summary>Changes gathered and not yet taken.</summary>
    public int Count => _changes.Count;

    /// <summary>The end LSN of the last transaction whose changes are all in taken batches or in this one.</summary>
    public NpgsqlTypes.NpgsqlLogSequenceNumber? LastEnd { get; private set; }

    /// <summary>The commit time of the oldest transaction gathered and not yet taken.</summary>
    public DateTimeOffset? OldestCommit { get; private set; }

    /// <summary>Adds a transaction; returns the batches that became full before or while it was added.</summary>
    public IReadOnlyList<RecordBatch> Add(SourceTransaction transaction)
    {
        var full = new List<RecordBatch>();
        if (_changes.Count > 0 && (_changes.Count + transaction.Changes.Count > batchSize || _bytes + transaction.Changes.Sum(SizeOf) > batchBytes))
        {
            full.Add(Take()!);
        }

        foreach (var added in transaction.Changes)
        {
            if (added is RowTruncated)
            {
                // A batch of its own, after the changes before it and before those after it.
                if (_changes.Count > 0)
                {
                    full.Add(Take()!);
                }

                OldestCommit ??= transaction.CommittedAt;
                _last[added.Key] = 0;
                _changes.Add(added);
                full.Add(Take()!);
                continue;
            }

            var change = added;
            if (change is RowUpserted { IsWhole: false } && _last.TryGetValue(change.Key, out var at) && _changes[at] is RowUpserted earlier)
            {
                change = Complete(change, earlier);
            }

            var size = SizeOf(change);
            BatchCut.CheckRow(size, jobName);
            if (_changes.Count == batchSize || (_changes.Count > 0 && _bytes + size > batchBytes)
                || (change is RowUpserted && _shape is not null && !SameShape(_shape, change.Shape)))
            {
                full.Add(Take()!);
            }

            if (change is RowUpserted)
            {
                _shape ??= change.Shape;
            }

            OldestCommit ??= transaction.CommittedAt;
            _last[change.Key] = _changes.Count;
            _changes.Add(change);
            _bytes += size;
        }

        LastEnd = transaction.EndLsn;
        return full;
    }

    /// <summary>
    /// The gathered changes as one batch (null when there are none), last change per key only. Records
    /// the batch's lag (its oldest source commit to now, <see cref="CdcTelemetry"/>): here, because the
    /// batch forgets its commit times once cut.
    /// </summary>
    public RecordBatch? Take()
    {
        if (_changes.Count == 0)
        {
            return null;
        }

        if (OldestCommit is { } committed)
        {
            CdcTelemetry.RecordLag(jobName, DateTimeOffset.UtcNow - committed);
        }

        var shape = _shape ?? [.. columns];
        var carried = Enumerable.Range(0, shape.Length).Where(i => shape[i] is not null).ToArray();
        var rows = new TupleBuffer();
        var operations = new List<byte>(_last.Count);
        for (var i = 0; i < _changes.Count; i++)
        {
            if (_last[_changes[i].Key] != i)
            {
                continue;
            }

            var values = _changes[i].Values;
            rows.BeginTuple(carried.Length);
            foreach (var c in carried)
            {
                // A change read before a column was added to the source (ChangeDecoder.Map) is narrower: it has none.
                var value = c < values.Length ? values[c] : null;
                rows.AppendField(value, value is null);
            }

            operations.Add(_changes[i].Operation);
        }

        _changes.Clear();
        _last.Clear();
        _shape = null;
        _bytes = 0;
        OldestCommit = null;
        return new RecordBatch([.. carried.Select(c => shape[c]!)], rows.RowCount, rows.ToArray(), [.. operations]);
    }

    // The values a change left out, from the row's earlier change in the batch (its whole value then is its value now).
    private static RowUpserted Complete(RowChange change, RowUpserted earlier)
    {
        var values = (byte[]?[])change.Values.Clone();
        var shape = (BatchColumn?[])change.Shape.Clone();
        for (var i = 0; i < shape.Length; i++)
        {
            if (shape[i] is null && i < earlier.Shape.Length && earlier.Shape[i] is { } column)
            {
                values[i] = earlier.Values[i];
                shape[i] = column;
            }
        }

        return new RowUpserted(values, change.Key, shape);
    }

    // As a COPY tuple: a field count, then a length and the bytes of each value (an upper bound: a
    // later change of the same key replaces an earlier one when the batch is taken).
    private static long SizeOf(RowChange change) => 2 + change.Values.Sum(v => 4L + (v?.Length ?? 0));

    private static bool SameShape(BatchColumn?[] a, BatchColumn?[] b) => ReferenceEquals(a, b) || a.AsSpan().SequenceEqual(b);
}
