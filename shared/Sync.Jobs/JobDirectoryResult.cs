using Sync.Contracts.Jobs;

namespace Sync.Jobs;

/// <summary>Every valid job of a directory by name, and every error found in it.</summary>
public sealed class JobDirectoryResult
{
    internal JobDirectoryResult(IReadOnlyDictionary<string, JobSpec> jobs, IReadOnlyList<JobFileError> errors)
    {
        Jobs = jobs;
        Errors = errors;
    }

    /// <summary>Valid jobs by name; a file with errors, or a name used twice, contributes nothing.</summary>
    public IReadOnlyDictionary<string, JobSpec> Jobs { get; }

    public IReadOnlyList<JobFileError> Errors { get; }

    public bool IsValid => Errors.Count == 0;

    /// <summary>Throws <see cref="InvalidJobFileException"/> listing every error, so a service refuses to start on a bad job.</summary>
    public void ThrowIfInvalid()
    {
        if (!IsValid)
        {
            throw new InvalidJobFileException(Errors);
        }
    }
}
