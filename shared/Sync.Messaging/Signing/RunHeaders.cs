using MassTransit;

namespace Sync.Messaging.Signing;

/// <summary>
/// The run a message belongs to, copied into transport headers by the sender, so that a stage
/// which cannot deserialize the body still knows which run and batch to report it for.
/// <see cref="Stream"/>: the streams job's stream when it differs from <see cref="JobName"/>.
/// </summary>
public sealed record RunHeaders(Guid RunId, string JobName, int? BatchSeq, string? Stream, string? Signature = null)
{
    public const string RunIdHeader = "Sync-Run-Id";
    public const string JobHeader = "Sync-Job";
    public const string BatchSeqHeader = "Sync-Batch-Seq";
    public const string StreamHeader = "Sync-Stream";
    public const string SignatureHeader = "Sync-Run-Signature";

    /// <summary>Writes the headers, as strings (they travel as AMQP strings whatever type they had).</summary>
    public void WriteTo(SendHeaders headers)
    {
        headers.Set(RunIdHeader, RunId.ToString());
        headers.Set(JobHeader, JobName);
        if (BatchSeq is { } seq)
        {
            headers.Set(BatchSeqHeader, seq.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        if (Stream is not null)
        {
            headers.Set(StreamHeader, Stream);
        }

        if (Signature is not null)
        {
            headers.Set(SignatureHeader, Signature);
        }
    }

    /// <summary>The run headers of a received message; null when it has none, or they are incomplete.</summary>
    public static RunHeaders? Read(Headers headers)
    {
        if (!Guid.TryParse(headers.Get<string>(RunIdHeader), out var runId) || headers.Get<string>(JobHeader) is not { Length: > 0 } job)
        {
            return null;
        }

        int? batchSeq = int.TryParse(headers.Get<string>(BatchSeqHeader), System.Globalization.CultureInfo.InvariantCulture, out var seq) ? seq : null;
        return new RunHeaders(runId, job, batchSeq, headers.Get<string>(StreamHeader), headers.Get<string>(SignatureHeader));
    }
}
