using Sync.Contracts.Jobs;

namespace Sync.Jobs;

/// <summary>Every valid job of a directory by name, and every file that defines none, with its errors.</summary>
public sealed class JobDirectoryResult
{
    internal JobDirectoryResult(IReadOnlyDictionary<string, JobSpec> jobs, IReadOnlyList<InvalidJobFile> invalidFiles, IReadOnlyDictionary<string, StreamsJob>? streams = null)
    {
        Found = true;
        Jobs = jobs;
        Streams = streams ?? new Dictionary<string, StreamsJob>();
        InvalidFiles = invalidFiles;
        Errors = invalidFiles.SelectMany(f => f.Errors).ToList();
    }

    internal JobDirectoryResult(JobFileError missingDirectory)
    {
        Jobs = new Dictionary<string, JobSpec>();
        Streams = new Dictionary<string, StreamsJob>();
        InvalidFiles = [];
        Errors = [missingDirectory];
    }

    /// <summary>Whether the directory exists; when it does not, <see cref="Errors"/> holds the one error saying so.</summary>
    public bool Found { get; }

    /// <summary>Valid jobs by name; a file with errors, or a name used twice, contributes nothing.</summary>
    public IReadOnlyDictionary<string, JobSpec> Jobs { get; }

    /// <summary>Valid jobs with <c>streams:</c> by name, each still to be expanded against its source (<see cref="StreamExpansion"/>).</summary>
    public IReadOnlyDictionary<string, StreamsJob> Streams { get; }

    /// <summary>The files that define no job, in file order, each with its errors (a name used twice is an error in every file using it).</summary>
    public IReadOnlyList<InvalidJobFile> InvalidFiles { get; }

    /// <summary>Every error, by file, line and column.</summary>
    public IReadOnlyList<JobFileError> Errors { get; }

    public bool IsValid => Errors.Count == 0;

    /// <summary>Throws <see cref="InvalidJobFileException"/> listing every error.</summary>
    public void ThrowIfInvalid()
    {
        if (!IsValid)
        {
            throw new InvalidJobFileException(Errors);
        }
    }
}
