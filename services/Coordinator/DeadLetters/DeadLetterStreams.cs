using Sync.Contracts.Jobs;
using Sync.Coordinator.Data;
using Sync.Coordinator.Jobs;

namespace Sync.Coordinator.DeadLetters;

/// <summary>
/// The stream a dead letter of a streams job belongs to, and the job its replay sends the record
/// with (issue 18). A cursor stream runs as a job of its own (<c>JOB.STREAM</c>), so its dead letters
/// carry that name as job and as stream. A cdc streams job runs as one job (<c>JOB</c>) whose batches
/// travel with their stream's job: its dead letters must name the stream, or a replay would read and
/// load a table it cannot know.
/// </summary>
internal static class DeadLetterStreams
{
    /// <summary>The stream of a batch of <paramref name="jobName"/>: the one the batch names (cdc streams), the job itself when it is a cursor stream, or null.</summary>
    public static string? Of(JobCatalog jobs, string jobName, string? batchStream) =>
        batchStream ?? (jobs.FindStreams(jobName) is { } streams && streams.Name != jobName ? jobName : null);

    /// <summary>
    /// The job a dead letter's record is replayed with: <paramref name="job"/> itself, or for a cdc
    /// streams job the job of the letter's stream; null when the letter names no stream the job
    /// follows now (recorded before streams were kept, or the stream has left the job file), whose
    /// replay could only guess the table.
    /// </summary>
    public static JobSpec? ReplayJob(JobSpec job, DeadLetter letter) => ReplayJob(job, letter.Stream);

    public static JobSpec? ReplayJob(JobSpec job, string? stream) =>
        job.Streams is null
            ? stream is null || stream == job.Name ? job : null
            : job.Streams.FirstOrDefault(s => s.Name == stream);
}
