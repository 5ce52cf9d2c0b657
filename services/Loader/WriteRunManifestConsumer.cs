using MassTransit;
using Microsoft.Extensions.Logging;
using Sync.Connectors.S3;
using Sync.Contracts;

namespace Sync.Loader;

/// <summary>Writes the manifest of a completed run of an S3 destination; written again, it is the same object.</summary>
internal sealed partial class WriteRunManifestConsumer(S3Destination destination, ILogger<WriteRunManifestConsumer> logger) : IConsumer<WriteRunManifest>
{
    public async Task Consume(ConsumeContext<WriteRunManifest> context)
    {
        var message = context.Message;
        using var scope = logger.BeginScope(new Dictionary<string, object> { ["Job"] = message.JobName, ["RunId"] = message.RunId });
        var manifest = await destination.WriteManifestAsync(message.Job, message.RunId, message.ExtractionId, message.BatchCount, context.CancellationToken);
        LogWritten(BatchObjectKeys.Manifest(message.Job, message.RunId), manifest.Objects.Count, manifest.Rows);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Run manifest {Key} written: {Objects} object(s), {Rows} row(s)")]
    private partial void LogWritten(string key, int objects, long rows);
}
