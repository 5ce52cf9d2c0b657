using System.Text;
using Sync.Batches;
using Sync.Contracts;

namespace Sync.Connectors;

/// <summary>
/// The batch a record-by-record source (HTTP, files, C#) is filling: the rows it encoded and the records
/// it set aside as dead letters, each numbered by its place in the batch. Full at the job's batch size
/// (rows and rejects together); <see cref="SendAsync"/> hands it on and starts the next one empty.
/// </summary>
public sealed class PendingBatch(
    IReadOnlyList<BatchColumn> columns,
    int batchSize,
    ExtractionSummary summary,
    Func<RecordBatch, IReadOnlyList<RejectedRecord>, CancellationToken, ValueTask> onBatch)
{
    /// <summary>A rejected record travels as its raw text, in one text column.</summary>
    private static readonly BatchColumn[] RejectedColumns = [new("record", PgTypes.Text)];

    private readonly TupleBuffer _rows = new();
    private readonly List<RejectedRecord> _rejected = [];
    private int _index;

    public bool IsEmpty => _rows.RowCount + _rejected.Count == 0;

    /// <summary>Adds a row of encoded values (null for SQL NULL).</summary>
    public void Add(IReadOnlyList<byte[]?> values)
    {
        _rows.BeginTuple(values.Count);
        foreach (var value in values)
        {
            _rows.AppendField(value, value is null);
        }
    }

    /// <summary>Sets the current record aside: <paramref name="record"/> is its raw text, <paramref name="reason"/> says where and why.</summary>
    public void Reject(string stage, string reason, string record)
    {
        var raw = new TupleBuffer(256);
        raw.BeginTuple(1);
        raw.AppendField(Encoding.UTF8.GetBytes(record), isNull: false);
        _rejected.Add(new RejectedRecord(stage, _index, reason, new RecordBatch(RejectedColumns, 1, raw.ToArray())));
    }

    /// <summary>Ends the current record (added, rejected or skipped); true when the batch is full and should be sent.</summary>
    public bool EndRecord()
    {
        _index++;
        return _rows.RowCount + _rejected.Count >= batchSize;
    }

    /// <summary>Counts the batch in the summary with <paramref name="high"/>, the highest position read so far, hands it on and starts an empty one.</summary>
    public async ValueTask SendAsync(CursorPosition? high, CancellationToken cancellationToken)
    {
        var batch = new RecordBatch(columns, _rows.RowCount, _rows.ToArray());
        IReadOnlyList<RejectedRecord> rejected = [.. _rejected];
        summary.AddUnordered(batch.RowCount, high);
        _rows.Clear();
        _rejected.Clear();
        _index = 0;
        await onBatch(batch, rejected, cancellationToken);
    }
}
