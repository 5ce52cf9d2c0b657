using Sync.Contracts.Jobs;

namespace Sync.Contracts;

/// <summary>
/// A run of a job with an S3 destination completed: the Loader writes its manifest, listing the
/// <see cref="BatchCount"/> objects of extraction <see cref="ExtractionId"/>. Sent by the Coordinator
/// in the transaction that completes the run; writing it again writes the same bytes.
/// </summary>
public sealed record WriteRunManifest(Guid RunId, string JobName, Guid ExtractionId, int BatchCount, JobSpec Job);
