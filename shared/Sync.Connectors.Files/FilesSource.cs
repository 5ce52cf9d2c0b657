using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CsvHelper;
using CsvHelper.Configuration;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.FileSystemGlobbing;
using Sync.Contracts;
using Sync.Contracts.Jobs;
using Sync.ObjectStorage;

namespace Sync.Connectors.Files;

/// <summary>
/// Reads CSV or JSONL files (<c>type: files</c>) from the folder of a named connection
/// (<c>FileConnections__NAME</c>), oldest first by (modified time, name), each file once whatever its
/// modified time and again when it changes: the watermark lists the files read (<see cref="FilesWatermark"/>).
/// A line that does not parse or fit its declared types is a dead letter of stage "extract" naming the
/// file and line; the rest of the file loads. With <c>prefix:</c> the files are the objects under that
/// prefix of an S3 connection's bucket (<c>S3Connections__NAME__*</c>), by (LastModified, key) the same way.
/// </summary>
public sealed class FilesSource(IConfiguration configuration) : ISource
{
    private readonly S3Connections _s3 = new(configuration);

    public const string SectionName = "FileConnections";
    public const string Stage = "extract";

    /// <summary>A file modified more recently than this may still be being written; the next run takes it.</summary>
    internal static readonly TimeSpan SettleTime = TimeSpan.FromSeconds(2);

    public async Task<ExtractionSummary> ExtractAsync(
        JobSpec job,
        CursorPosition? after,
        Func<RecordBatch, IReadOnlyList<RejectedRecord>, CancellationToken, ValueTask> onBatch,
        CancellationToken cancellationToken)
    {
        var spec = job.Source.Files ?? throw new SourceSchemaException("A files source needs source.pattern, format and fields; the job carries none.");
        var s3 = spec.Prefix is null ? null : _s3.Get(job.Source.Connection);
        var folder = s3 is not null
            ? string.Empty
            : configuration.GetSection(SectionName)[job.Source.Connection] is { Length: > 0 } f && Directory.Exists(f)
            ? Path.GetFullPath(f)
            : throw new SourceSchemaException($"Files connection \"{job.Source.Connection}\" is not configured or its folder does not exist. Set the environment variable {SectionName}__{job.Source.Connection} to an existing folder.");
        var records = new JsonRecords(job.Source, spec.Fields);

        var summary = new ExtractionSummary();
        var batch = new PendingBatch(records.Columns, job, summary, onBatch);
        var values = new byte[]?[records.Columns.Count];
        var listed = s3 is null ? List(folder, spec.Pattern) : await S3Objects.ListAsync(s3, spec.Prefix!, spec.Pattern, cancellationToken);
        var read = new List<FileRead>();
        foreach (var file in FilesWatermark.Pending(listed, after, DateTime.UtcNow - SettleTime))
        {
            var name = file.Name;
            await using var stream = s3 is null ? File.OpenRead(Path.Combine(folder, name)) : await S3Objects.OpenAsync(s3, name, cancellationToken);
            await foreach (var (line, raw, record, error) in (spec.Format == "csv" ? ReadCsvAsync(stream, cancellationToken) : ReadJsonLinesAsync(stream, cancellationToken)).WithCancellation(cancellationToken))
            {
                var reason = error;
                if (reason is null && !records.TryEncode(record, values, out var encodeError))
                {
                    reason = encodeError;
                }
                else if (reason is null)
                {
                    batch.Add(values);
                }

                if (reason is not null)
                {
                    batch.Reject(Stage, $"{name}:{line}: {reason}", raw);
                }

                if (batch.EndRecord())
                {
                    await batch.SendAsync(null, cancellationToken);
                }
            }

            read.Add(file);
        }

        if (!batch.IsEmpty)
        {
            await batch.SendAsync(null, cancellationToken);
        }

        if (read.Count > 0)
        {
            summary.KeepAtLeast(FilesWatermark.Next(listed, after, read));
        }

        return summary;
    }

    /// <summary>Every file of the folder the pattern matches, names relative to the folder with /.</summary>
    internal static List<FileRead> List(string folder, string pattern)
    {
        var matcher = new Matcher(StringComparison.Ordinal);
        matcher.AddInclude(pattern);
        return [.. matcher.GetResultsInFullPath(folder)
            .Select(p => new FileInfo(p))
            .Select(f => new FileRead(Path.GetRelativePath(folder, f.FullName).Replace('\\', '/'), f.LastWriteTimeUtc, f.Length))];
    }

    private static async IAsyncEnumerable<(long Line, string Raw, JsonElement Record, string? Error)> ReadJsonLinesAsync(
        Stream stream, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(stream, Encoding.UTF8, leaveOpen: true);
        long line = 0;
        while (await reader.ReadLineAsync(cancellationToken) is { } text)
        {
            line++;
            if (string.IsNullOrWhiteSpace(text))
            {
                continue;
            }

            JsonElement record;
            string? error = null;
            try
            {
                using var document = JsonDocument.Parse(text);
                record = document.RootElement.Clone();
            }
            catch (JsonException exception)
            {
                record = default;
                error = $"not JSON: {exception.Message}";
            }

            yield return (line, text, record, error);
        }
    }

    private static async IAsyncEnumerable<(long Line, string Raw, JsonElement Record, string? Error)> ReadCsvAsync(
        Stream stream, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var badData = false;
        var configuration = new CsvConfiguration(CultureInfo.InvariantCulture) { BadDataFound = _ => badData = true };
        using var reader = new StreamReader(stream, Encoding.UTF8, leaveOpen: true);
        using var parser = new CsvParser(reader, configuration);
        if (!await parser.ReadAsync())
        {
            yield break;
        }

        var header = parser.Record ?? [];
        var previousEnd = (long)parser.RawRow;
        while (await parser.ReadAsync())
        {
            cancellationToken.ThrowIfCancellationRequested();
            var fields = parser.Record ?? [];
            var raw = parser.RawRecord.TrimEnd('\r', '\n');
            // The line the record starts on: a quoted field may run over several lines.
            var line = previousEnd + 1;
            previousEnd = parser.RawRow;
            if (badData || fields.Length != header.Length)
            {
                var error = badData ? "malformed CSV (a quote inside an unquoted field, or an unclosed quote)" : $"{fields.Length} fields, the header has {header.Length}";
                badData = false;
                yield return (line, raw, default, error);
                continue;
            }

            // An empty CSV field is a null value, as PostgreSQL's COPY … CSV reads an unquoted empty field.
            var record = new JsonObject();
            for (var i = 0; i < header.Length; i++)
            {
                if (fields[i].Length > 0)
                {
                    record[header[i]] = fields[i];
                }
            }

            yield return (line, raw, JsonSerializer.SerializeToElement(record), null);
        }
    }
}
