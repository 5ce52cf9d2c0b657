using Microsoft.Extensions.Options;
using Sync.Contracts.Jobs;
using Sync.Jobs;

namespace Sync.Coordinator.Jobs;

/// <summary>
/// The jobs this Coordinator runs, read from the jobs folder once at start-up. A file with errors
/// stops only its own job: the others run, and <see cref="Invalid"/> keeps it with every error for
/// GET /api/jobs, <c>sync jobs</c> and the dashboard. Only a missing folder stops the Coordinator:
/// that is a wrong setting, not a broken job.
/// </summary>
public sealed partial class JobCatalog
{
    private readonly IReadOnlyDictionary<string, JobSpec> _jobs;

    public JobCatalog(IOptions<JobsOptions> options, ILogger<JobCatalog> logger)
    {
        Directory = Path.GetFullPath(options.Value.Directory);
        var result = JobDirectory.Load(Directory);
        if (!result.Found)
        {
            result.ThrowIfInvalid();
        }

        _jobs = result.Jobs;
        Invalid = result.InvalidFiles;
        foreach (var error in result.Errors)
        {
            LogInvalidJobFile(logger, error.File, error.ToString());
        }
    }

    public string Directory { get; }

    /// <summary>The valid jobs, by name.</summary>
    public IEnumerable<JobSpec> All => _jobs.Values.OrderBy(j => j.Name, StringComparer.Ordinal);

    /// <summary>The job files that define no job, with their errors; their jobs do not run.</summary>
    public IReadOnlyList<InvalidJobFile> Invalid { get; }

    /// <summary>
    /// The names of every valid job and of every invalid file that gives one: what must not be taken
    /// for a removed job (whose replication slot may go), since the file is only waiting for a fix.
    /// </summary>
    public IReadOnlySet<string> ClaimedNames =>
        _jobs.Keys.Concat(Invalid.Select(f => f.Name).OfType<string>()).ToHashSet(StringComparer.Ordinal);

    /// <summary>Whether an invalid file gives no readable job name, so any job not in <see cref="ClaimedNames"/> may be its.</summary>
    public bool HasUnnamedInvalidFile => Invalid.Any(f => f.Name is null);

    public JobSpec? Find(string name) => _jobs.GetValueOrDefault(name);

    /// <summary>The invalid file that gives this job name, if any.</summary>
    public InvalidJobFile? FindInvalid(string name) => Invalid.FirstOrDefault(f => f.Name == name);

    /// <summary>What an API answer says about a job that does not run: its invalid file with the errors, or the known jobs.</summary>
    public (string Title, string Detail) NotRunnable(string name) =>
        FindInvalid(name) is { } invalid
            ? ($"Job \"{name}\" does not run: {invalid.File} is invalid.", $"Fix the file and restart the Coordinator. {string.Join(" ", invalid.Errors)}")
            : ($"Job \"{name}\" is not defined.", $"Known jobs: {string.Join(", ", All.Select(j => j.Name))}.");

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job file {File} is invalid, its job does not run: {Error}")]
    private static partial void LogInvalidJobFile(ILogger logger, string file, string error);
}
