namespace Sync.Contracts;

/// <summary>
/// A record a stage set aside instead of failing its batch: <see cref="Stage"/> (transform, load),
/// its index among the rows that stage received, why, and the record itself as a one-row batch,
/// in the schema the stage received it in, so a replay can hand it to that stage again.
/// </summary>
public sealed record RejectedRecord(string Stage, int RowIndex, string Error, RecordBatch Record);
