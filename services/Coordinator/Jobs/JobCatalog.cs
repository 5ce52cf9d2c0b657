using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Sync.Contracts.Jobs;
using Sync.Jobs;

namespace Sync.Coordinator.Jobs;

/// <summary>
/// The jobs this Coordinator runs, read from the jobs folder once at start-up. A file with errors
/// stops only its own job: the others run, and <see cref="Invalid"/> keeps it with every error for
/// GET /api/jobs, <c>sync jobs</c> and the dashboard. Only a missing folder stops the Coordinator:
/// that is a wrong setting, not a broken job. A job with <c>streams:</c> is kept as it was read
/// (<see cref="FindStreams"/>) and its stream jobs (<c>JOB.STREAM</c>) are found here once
/// <see cref="StreamResolver"/> has expanded it against the source.
/// </summary>
public sealed partial class JobCatalog
{
    private readonly IReadOnlyDictionary<string, JobSpec> _jobs;
    private readonly IReadOnlyDictionary<string, StreamsJob> _streams;
    private readonly ConcurrentDictionary<string, JobSpec> _streamJobs = new(StringComparer.Ordinal);

    public JobCatalog(IOptions<JobsOptions> options, ILogger<JobCatalog> logger)
    {
        Directory = Path.GetFullPath(options.Value.Directory);
        var result = JobDirectory.Load(Directory);
        if (!result.Found)
        {
            result.ThrowIfInvalid();
        }

        _jobs = result.Jobs;
        _streams = result.Streams;
        Invalid = result.InvalidFiles;
        foreach (var error in result.Errors)
        {
            LogInvalidJobFile(logger, error.File, error.ToString());
        }
    }

    public string Directory { get; }

    /// <summary>The valid jobs and the stream jobs resolved so far, by name.</summary>
    public IEnumerable<JobSpec> All => _jobs.Values.Concat(_streamJobs.Values).OrderBy(j => j.Name, StringComparer.Ordinal);

    /// <summary>The valid jobs with <c>streams:</c>, by name.</summary>
    public IEnumerable<StreamsJob> AllStreams => _streams.Values.OrderBy(j => j.Name, StringComparer.Ordinal);

    /// <summary>The job files that define no job, with their errors; their jobs do not run.</summary>
    public IReadOnlyList<InvalidJobFile> Invalid { get; }

    /// <summary>
    /// The names of every valid job and of every invalid file that gives one: what must not be taken
    /// for a removed job (whose replication slot may go), since the file is only waiting for a fix.
    /// </summary>
    public IReadOnlySet<string> ClaimedNames =>
        _jobs.Keys.Concat(_streams.Keys).Concat(_streamJobs.Keys).Concat(Invalid.Select(f => f.Name).OfType<string>()).ToHashSet(StringComparer.Ordinal);

    /// <summary>Whether an invalid file gives no readable job name, so any job not in <see cref="ClaimedNames"/> may be its.</summary>
    public bool HasUnnamedInvalidFile => Invalid.Any(f => f.Name is null);

    public JobSpec? Find(string name) => _jobs.GetValueOrDefault(name) ?? _streamJobs.GetValueOrDefault(name);

    /// <summary>The streams job of this name, or the one a stream job name (<c>JOB.STREAM</c>) belongs to.</summary>
    public StreamsJob? FindStreams(string name) =>
        _streams.GetValueOrDefault(name) ?? (name.IndexOf('.', StringComparison.Ordinal) is > 0 and var dot ? _streams.GetValueOrDefault(name[..dot]) : null);

    /// <summary>Records the stream jobs a streams job expanded to; a stream gone from the source stays findable for runs still under way.</summary>
    internal void Resolved(IReadOnlyList<JobSpec> streamJobs)
    {
        foreach (var job in streamJobs)
        {
            _streamJobs[job.Name] = job;
        }
    }

    /// <summary>The invalid file that gives this job name, if any.</summary>
    public InvalidJobFile? FindInvalid(string name) => Invalid.FirstOrDefault(f => f.Name == name);

    /// <summary>What an API answer says about a job that does not run: its invalid file with the errors, or the known jobs.</summary>
    public (string Title, string Detail) NotRunnable(string name) =>
        FindInvalid(name) is { } invalid
            ? ($"Job \"{name}\" does not run: {invalid.File} is invalid.", $"Fix the file and restart the Coordinator. {string.Join(" ", invalid.Errors)}")
            : ($"Job \"{name}\" is not defined.", $"Known jobs: {string.Join(", ", All.Select(j => j.Name).Concat(_streams.Keys).Order(StringComparer.Ordinal))}.");

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job file {File} is invalid, its job does not run: {Error}")]
    private static partial void LogInvalidJobFile(ILogger logger, string file, string error);
}
