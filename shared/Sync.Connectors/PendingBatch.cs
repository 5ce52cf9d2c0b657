using System.Text;
using Sync.Batches;
using Sync.Contracts;
using Sync.Contracts.Jobs;

namespace Sync.Connectors;

/// <summary>
/// The batch a record-by-record source (HTTP, files, C#) is filling: the rows it encoded and the records
/// it set aside as dead letters, each numbered by its place in the batch. Full at the job's batch_size
/// (rows and rejects together), or once it holds the job's batch_bytes (so at most one record more,
/// issue 16); <see cref="SendAsync"/> hands it on and starts the next one empty.
/// </summary>
public sealed class PendingBatch(
    IReadOnlyList<BatchColumn> columns,
    JobSpec job,
    ExtractionSummary summary,
    Func<RecordBatch, IReadOnlyList<RejectedRecord>, CancellationToken, ValueTask> onBatch)
{
    /// <summary>A rejected record travels as its raw text, in one text column.</summary>
    private static readonly BatchColumn[] RejectedColumns = [new("record", PgTypes.Text)];

    private readonly TupleBuffer _rows = new();
    private readonly List<RejectedRecord> _rejected = [];
    private int _index;
    private long _rejectedBytes;

    public bool IsEmpty => _rows.RowCount + _rejected.Count == 0;

    /// <summary>Adds a row of encoded values (null for SQL NULL).</summary>
    public void Add(IReadOnlyList<byte[]?> values)
    {
        BatchCut.CheckRow(2 + values.Sum(v => 4L + (v?.Length ?? 0)), job.Name);
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
        var text = Encoding.UTF8.GetBytes(record);
        BatchCut.CheckRow(text.Length, job.Name);
        raw.BeginTuple(1);
        raw.AppendField(text, isNull: false);
        _rejectedBytes += raw.Length;
        _rejected.Add(new RejectedRecord(stage, _index, reason, new RecordBatch(RejectedColumns, 1, raw.ToArray())));
    }

    /// <summary>Ends the current record (added, rejected or skipped); true when the batch is full and should be sent.</summary>
    public bool EndRecord()
    {
        _index++;
        return _rows.RowCount + _rejected.Count >= job.BatchSize || _rows.Length + _rejectedBytes >= job.BatchBytes;
    }

    /// <summary>Counts the batch in the summary with <paramref name="high"/>, the highest position read so far, hands it on and starts an empty one.</summary>
    public async ValueTask SendAsync(CursorPosition? high, CancellationToken cancellationToken)
    {
        var batch = new RecordBatch(columns, _rows.RowCount, _rows.ToArray());
        IReadOnlyList<RejectedRecord> rejected = [.. _rejected];
        summary.AddUnordered(batch.RowCount, high);
        _rows.Clear();
        _rejected.Clear();
        _rejectedBytes = 0;
        _index = 0;
        await onBatch(batch, rejected, cancellationToken);
    }
}
