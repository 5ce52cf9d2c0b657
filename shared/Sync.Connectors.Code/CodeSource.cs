using System.Text.Json;
using Sync.Batches;
using Sync.Contracts;
using Sync.Contracts.Jobs;
using Sync.Sdk;

namespace Sync.Connectors.Code;

/// <summary>
/// Reads a C# source (<c>type: code</c>, an <see cref="ISyncSource"/>) into the same batches a table
/// source produces: the columns are the cursor, the primary key, then the source's other columns, in
/// the PostgreSQL types of their <see cref="SyncType"/>s. The watermark is the last record's (cursor,
/// key); the source is given its cursor value, and records at or before the watermark are dropped
/// even if it yields them (so a source may read ties at the boundary again). A record whose values do
/// not fit their types, or whose cursor or key is null, is set aside as a dead letter, stage "extract".
/// </summary>
public sealed class CodeSource(CodeSources sources) : ISource
{
    public const string Stage = "extract";

    public async Task<ExtractionSummary> ExtractAsync(
        JobSpec job,
        CursorPosition? after,
        Func<RecordBatch, IReadOnlyList<RejectedRecord>, CancellationToken, ValueTask> onBatch,
        CancellationToken cancellationToken)
    {
        var name = job.Source.Table;
        var source = sources.Create(name);
        var layout = new CodeSourceLayout(job.Source, source.Schema ?? throw new SourceSchemaException($"C# source \"{name}\" declares no schema."));
        var afterValues = after is { Values.Count: > 0 } ? Decode(layout, after, job) : null;

        var summary = new ExtractionSummary();
        var batch = new PendingBatch(layout.Columns, job, summary, onBatch);
        var values = new byte[]?[layout.Columns.Count];
        object[]? last = null;
        await foreach (var record in source.ReadAsync(afterValues is null ? null : after!.Values[0], cancellationToken).WithCancellation(cancellationToken))
        {
            if (!layout.TryEncode(record, values, out var position, out var error))
            {
                batch.Reject(Stage, $"C# source {name}: {error}", Describe(record));
            }
            else if (afterValues is null || CodeSourceLayout.Compare(position, afterValues) > 0)
            {
                batch.Add(values);
                last = position;
            }

            if (batch.EndRecord())
            {
                await batch.SendAsync(High(), cancellationToken);
            }
        }

        if (!batch.IsEmpty)
        {
            await batch.SendAsync(High(), cancellationToken);
        }

        return summary;

        CursorPosition? High() => last is null ? null : layout.PositionOf(last);
    }

    private static object[] Decode(CodeSourceLayout layout, CursorPosition after, JobSpec job)
    {
        try
        {
            return layout.Decode(after);
        }
        catch (ValueCastException exception)
        {
            // A source whose cursor changed type since the watermark was stored: the old position means nothing now.
            throw new SourceSchemaException($"The watermark ({string.Join(", ", after.Values)}) does not fit the C# source's cursor and key types ({exception.Message}); reset it with DELETE /api/jobs/{job.Name}/watermark.");
        }
    }

    // The record as a JSON object for the dead letter; values that JSON cannot hold are shown as text.
    private static string Describe(SyncRecord record)
    {
        var fields = new Dictionary<string, object?>(StringComparer.Ordinal);
        for (var i = 0; i < record.Schema.Columns.Count && i < record.Values.Length; i++)
        {
            var value = record.Values[i];
            fields[record.Schema.Columns[i].Name] = value is null or string or bool or short or int or long or decimal or double or Guid or DateTime or DateOnly
                ? value
                : Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture);
        }

        return JsonSerializer.Serialize(fields);
    }
}
