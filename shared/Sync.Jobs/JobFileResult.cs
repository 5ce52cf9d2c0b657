using System.Diagnostics.CodeAnalysis;
using Sync.Contracts.Jobs;
using YamlDotNet.Core;

namespace Sync.Jobs;

/// <summary>
/// A parsed job file: either <see cref="Job"/>, or <see cref="Streams"/> (a file with <c>streams:</c>,
/// expanded against the source catalog before it runs), or at least one error.
/// </summary>
public sealed class JobFileResult
{
    private JobFileResult(JobSpec? job, IReadOnlyList<JobFileError> errors, string? name, Mark nameAt, StreamsJob? streams = null)
    {
        Job = job;
        Streams = streams;
        Errors = errors;
        Name = name;
        NameAt = nameAt;
    }

    public JobSpec? Job { get; }

    /// <summary>The job of a file with <c>streams:</c>; <see cref="Job"/> is then null.</summary>
    public StreamsJob? Streams { get; }

    public IReadOnlyList<JobFileError> Errors { get; }

    /// <summary>Whether the file defines a job, of one table (<see cref="Job"/>) or of streams (<see cref="Streams"/>).</summary>
    public bool HasJob => Job is not null || Streams is not null;

    [MemberNotNullWhen(true, nameof(Job))]
    public bool IsValid => Job is not null;

    /// <summary>The job's name when it is valid, even if other settings are not, so names used twice are found at once.</summary>
    internal string? Name { get; }

    internal Mark NameAt { get; }

    internal static JobFileResult Valid(JobSpec job, Mark nameAt) => new(job, [], job.Name, nameAt);

    internal static JobFileResult ValidStreams(StreamsJob streams, Mark nameAt) => new(null, [], streams.Name, nameAt, streams);

    internal static JobFileResult Invalid(IReadOnlyList<JobFileError> errors, string? name = null, Mark nameAt = default) =>
        new(null, errors, name, nameAt);
}
