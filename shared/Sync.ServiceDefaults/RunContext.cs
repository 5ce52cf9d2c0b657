using System.Collections;
using System.Diagnostics;
using System.Globalization;

namespace Sync.ServiceDefaults;

/// <summary>
/// The job, run and batch a piece of work belongs to: span attributes on the current activity and
/// a logger scope, so every span and every log line of a run can be found by its run id. As a
/// scope it is a list of fields (the JSON console formatter writes them as properties) whose text
/// is <c>Job=orders RunId=… BatchSeq=3</c> (what the simple formatter prints).
/// </summary>
public sealed class RunContext(string job, Guid runId, int? batchSeq = null) : IReadOnlyList<KeyValuePair<string, object?>>
{
    public const string JobTag = "sync.job";
    public const string RunIdTag = "sync.run_id";
    public const string BatchSeqTag = "sync.batch_seq";

    private readonly KeyValuePair<string, object?>[] _fields = batchSeq is { } seq
        ? [new("Job", job), new("RunId", runId), new("BatchSeq", seq)]
        : [new("Job", job), new("RunId", runId)];

    public string Job { get; } = job;

    public Guid RunId { get; } = runId;

    public int? BatchSeq { get; } = batchSeq;

    public int Count => _fields.Length;

    public KeyValuePair<string, object?> this[int index] => _fields[index];

    public void Tag(Activity? activity)
    {
        if (activity is null)
        {
            return;
        }

        activity.SetTag(JobTag, Job);
        activity.SetTag(RunIdTag, RunId.ToString());
        if (BatchSeq is { } seq)
        {
            activity.SetTag(BatchSeqTag, seq);
        }
    }

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => ((IEnumerable<KeyValuePair<string, object?>>)_fields).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => BatchSeq is { } seq
        ? string.Create(CultureInfo.InvariantCulture, $"Job={Job} RunId={RunId} BatchSeq={seq}")
        : string.Create(CultureInfo.InvariantCulture, $"Job={Job} RunId={RunId}");
}
