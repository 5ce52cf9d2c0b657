using Sync.Batches;
using Sync.Contracts;

namespace Sync.Connectors.Postgres.Cdc;

/// <summary>
/// Gathers committed source transactions into batches of at most <c>batchSize</c> changes. A
/// transaction is not split across batches unless it alone exceeds the size, so the changes of one
/// source transaction commit in one destination transaction where they fit. Within a batch only the
/// last change per key is kept (in commit order), so the Loader's merge and delete each touch a row once.
/// Its batches always carry operations: the Loader applies such batches of a run in sequence.
/// </summary>
public sealed class ChangeBatcher(IReadOnlyList<BatchColumn> columns, int batchSize)
{
    private readonly List<RowChange> _changes = [];

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
        if (_changes.Count > 0 && _changes.Count + transaction.Changes.Count > batchSize)
        {
            full.Add(Take()!);
        }

        foreach (var change in transaction.Changes)
        {
            if (_changes.Count == batchSize)
            {
                full.Add(Take()!);
            }

            OldestCommit ??= transaction.CommittedAt;
            _changes.Add(change);
        }

        LastEnd = transaction.EndLsn;
        return full;
    }

    /// <summary>The gathered changes as one batch (null when there are none), last change per key only.</summary>
    public RecordBatch? Take()
    {
        if (_changes.Count == 0)
        {
            return null;
        }

        var last = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < _changes.Count; i++)
        {
            last[_changes[i].Key] = i;
        }

        var rows = new TupleBuffer();
        var operations = new List<byte>(last.Count);
        for (var i = 0; i < _changes.Count; i++)
        {
            if (last[_changes[i].Key] != i)
            {
                continue;
            }

            rows.AppendTuple(_changes[i].Tuple);
            operations.Add(_changes[i].Operation);
        }

        _changes.Clear();
        OldestCommit = null;
        return new RecordBatch(columns, rows.RowCount, rows.ToArray(), [.. operations]);
    }
}
