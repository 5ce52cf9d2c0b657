using System.Text.Json;
using Sync.Sdk;

namespace Sync.Examples.Transforms;

/// <summary>
/// An example C# sink (job file: <c>destination: { type: code, name: jsonl_folder }</c>): writes each
/// batch as one JSON-lines file, <c>JOB/RUN/EXTRACTION-BATCHSEQ.jsonl</c> under the folder of
/// <c>SYNC_JSONL_SINK_FOLDER</c>. A redelivered batch overwrites its own file (written aside and
/// moved into place), so loading it twice leaves one copy: idempotent by run and batch. It refuses a
/// record without an <c>id</c>, the key a reader of the files joins on.
/// </summary>
[SyncSink("jsonl_folder")]
public sealed class JsonLinesFolderSink(string folder) : ISyncSink
{
    public const string FolderVariable = "SYNC_JSONL_SINK_FOLDER";

    public JsonLinesFolderSink()
        : this(Environment.GetEnvironmentVariable(FolderVariable) is { Length: > 0 } folder
            ? folder
            : throw new InvalidOperationException($"Set {FolderVariable} to the folder the jsonl_folder sink writes to."))
    {
    }

    /// <summary>The file a batch is written to.</summary>
    public static string PathOf(string folder, string jobName, Guid runId, Guid extractionId, int batchSeq) =>
        Path.Combine(folder, jobName, runId.ToString("N"), $"{extractionId:N}-{batchSeq:D6}.jsonl");

    public async Task<IReadOnlyList<SinkFailure>> WriteAsync(SinkBatch batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var path = PathOf(folder, batch.JobName, batch.RunId, batch.ExtractionId, batch.BatchSeq);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var failures = new List<SinkFailure>();
        var aside = $"{path}.{Guid.NewGuid():N}.tmp";
        await using (var file = File.Create(aside))
        {
            for (var i = 0; i < batch.Records.Count; i++)
            {
                var record = batch.Records[i];
                if (!record.Has("id") || record.IsNull("id"))
                {
                    failures.Add(new SinkFailure(i, "the record has no id"));
                    continue;
                }

                await using (var writer = new Utf8JsonWriter(file))
                {
                    writer.WriteStartObject();
                    for (var c = 0; c < record.Schema.Columns.Count; c++)
                    {
                        writer.WritePropertyName(record.Schema.Columns[c].Name);
                        JsonSerializer.Serialize(writer, record.Values[c]);
                    }

                    writer.WriteEndObject();
                }

                file.WriteByte((byte)'\n');
            }
        }

        File.Move(aside, path, overwrite: true);
        return failures;
    }
}
