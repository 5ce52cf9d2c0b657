using System.Diagnostics.CodeAnalysis;
using Sync.Contracts.Jobs;
using YamlDotNet.Core;

namespace Sync.Jobs;

/// <summary>A parsed job file: either <see cref="Job"/> or at least one error.</summary>
public sealed class JobFileResult
{
    private JobFileResult(JobSpec? job, IReadOnlyList<JobFileError> errors, string? name, Mark nameAt)
    {
        Job = job;
        Errors = errors;
        Name = name;
        NameAt = nameAt;
    }

    public JobSpec? Job { get; }

    public IReadOnlyList<JobFileError> Errors { get; }

    [MemberNotNullWhen(true, nameof(Job))]
    public bool IsValid => Job is not null;

    /// <summary>The job's name when it is valid, even if other settings are not, so names used twice are found at once.</summary>
    internal string? Name { get; }

    internal Mark NameAt { get; }

    internal static JobFileResult Valid(JobSpec job, Mark nameAt) => new(job, [], job.Name, nameAt);

    internal static JobFileResult Invalid(IReadOnlyList<JobFileError> errors, string? name = null, Mark nameAt = default) =>
        new(null, errors, name, nameAt);
}
