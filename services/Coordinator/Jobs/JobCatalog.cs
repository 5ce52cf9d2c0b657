using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Sync.Contracts.Jobs;
using Sync.Jobs;

namespace Sync.Coordinator.Jobs;

/// <summary>
/// The jobs this Coordinator runs, read from the jobs folder at start-up and again on
/// <see cref="Reload"/> (the folder is watched: <see cref="JobFolderWatch"/>; and POST
/// /api/jobs/reload). A file with errors stops only its own job: the others run, and
/// <see cref="Invalid"/> keeps it with every error for GET /api/jobs, <c>syncctl jobs</c> and the
/// dashboard. Only a missing folder stops the Coordinator at start-up: that is a wrong setting,
/// not a broken job; a folder gone after that is reported by the reload and the jobs stay as they were.
/// A changed file takes effect at the job's next run: a run already under way was handed its definition.
/// A job with <c>streams:</c> is kept as it was read (<see cref="FindStreams"/>) and its stream jobs
/// (<c>JOB.STREAM</c>) are found here once <see cref="StreamResolver"/> has expanded it against the source.
/// </summary>
public sealed partial class JobCatalog
{
    private readonly ILogger<JobCatalog> _logger;
    private readonly Lock _reloading = new();
    private readonly ConcurrentDictionary<string, JobSpec> _streamJobs = new(StringComparer.Ordinal);
    private volatile Snapshot _current;

    public JobCatalog(IOptions<JobsOptions> options, ILogger<JobCatalog> logger)
    {
        _logger = logger;
        Directory = Path.GetFullPath(options.Value.Directory);
        var result = JobDirectory.Load(Directory);
        if (!result.Found)
        {
            result.ThrowIfInvalid();
        }

        _current = Snapshot.Of(result);
        LogErrors(result.Errors);
    }

    /// <summary>Raised after a reload that changed what runs, with what it changed (on the reloading thread).</summary>
    public event Action<JobCatalogChange>? Changed;

    public string Directory { get; }

    /// <summary>The valid jobs and the stream jobs resolved so far, by name.</summary>
    public IEnumerable<JobSpec> All => _current.Jobs.Values.Concat(_streamJobs.Values).OrderBy(j => j.Name, StringComparer.Ordinal);

    /// <summary>The valid jobs with <c>streams:</c>, by name.</summary>
    public IEnumerable<StreamsJob> AllStreams => _current.Streams.Values.OrderBy(j => j.Name, StringComparer.Ordinal);

    /// <summary>The job files that define no job, with their errors; their jobs do not run.</summary>
    public IReadOnlyList<InvalidJobFile> Invalid => _current.Invalid;

    /// <summary>
    /// The names of every valid job and of every invalid file that gives one: what must not be taken
    /// for a removed job (whose replication slot may go), since the file is only waiting for a fix.
    /// </summary>
    public IReadOnlySet<string> ClaimedNames
    {
        get
        {
            var current = _current;
            return current.Jobs.Keys.Concat(current.Streams.Keys).Concat(_streamJobs.Keys)
                .Concat(current.Invalid.Select(f => f.Name).OfType<string>()).ToHashSet(StringComparer.Ordinal);
        }
    }

    /// <summary>Whether an invalid file gives no readable job name, so any job not in <see cref="ClaimedNames"/> may be its.</summary>
    public bool HasUnnamedInvalidFile => _current.Invalid.Any(f => f.Name is null);

    public JobSpec? Find(string name) => _current.Jobs.GetValueOrDefault(name) ?? _streamJobs.GetValueOrDefault(name);

    /// <summary>The streams job of this name, or the one a stream job name (<c>JOB.STREAM</c>) belongs to.</summary>
    public StreamsJob? FindStreams(string name)
    {
        var streams = _current.Streams;
        return streams.GetValueOrDefault(name) ?? (name.IndexOf('.', StringComparison.Ordinal) is > 0 and var dot ? streams.GetValueOrDefault(name[..dot]) : null);
    }

    /// <summary>Records the stream jobs a streams job expanded to; a stream gone from the source stays findable for runs still under way.</summary>
    internal void Resolved(IReadOnlyList<JobSpec> streamJobs)
    {
        foreach (var job in streamJobs)
        {
            _streamJobs[job.Name] = job;
        }
    }

    /// <summary>The invalid file that gives this job name, if any.</summary>
    public InvalidJobFile? FindInvalid(string name) => _current.Invalid.FirstOrDefault(f => f.Name == name);

    /// <summary>
    /// What an API answer says about a job that does not run: its invalid file with the errors, or the
    /// known jobs, each once (a cdc streams job is both a streams job and the one job it resolves to).
    /// </summary>
    public (string Title, string Detail) NotRunnable(string name) =>
        FindInvalid(name) is { } invalid
            ? ($"Job \"{name}\" does not run: {invalid.File} is invalid.", $"Fix the file; the Coordinator reads it again when it changes. {string.Join(" ", invalid.Errors)}")
            : ($"Job \"{name}\" is not defined.", $"Known jobs: {string.Join(", ", All.Select(j => j.Name).Concat(_current.Streams.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))}.");

    /// <summary>
    /// Reads the jobs folder again. Jobs whose files are unchanged keep running as they are; an added,
    /// changed or fixed file's job takes its new definition at its next run; a removed file's job no
    /// longer starts. A file that turned invalid stops its job (listed with its errors), the others go
    /// on. A missing folder changes nothing and is reported.
    /// </summary>
    public JobCatalogChange Reload()
    {
        lock (_reloading)
        {
            var result = JobDirectory.Load(Directory);
            if (!result.Found)
            {
                var errors = result.Errors.Select(e => e.ToString()).ToList();
                LogReloadFailed(_logger, Directory, string.Join(" ", errors));
                return new JobCatalogChange([], [], [], [], errors);
            }

            var previous = _current;
            var next = Snapshot.Of(result);
            var change = JobCatalogChange.Between(previous, next);
            _current = next;
            // A streams job changed or removed is expanded again before its next run (StreamResolver).
            // A cdc streams job is resolved as one job of its own name (no dot).
            foreach (var stale in _streamJobs.Keys.Where(k => !next.Streams.TryGetValue(k.IndexOf('.', StringComparison.Ordinal) is > 0 and var dot ? k[..dot] : k, out var job)
                         || !previous.Streams.TryGetValue(job.Name, out var old) || !JobCatalogChange.SameStreams(old, job)).ToList())
            {
                _streamJobs.TryRemove(stale, out _);
            }

            LogErrors(result.Errors.Where(e => !previous.Invalid.Any(f => f.Errors.Contains(e))));
            if (change.Any)
            {
                LogReloaded(_logger, Directory, Names(change.Added), Names(change.Changed), Names(change.Removed), change.Invalid.Count);
                Changed?.Invoke(change);
            }

            return change;
        }
    }

    private static string Names(IReadOnlyList<string> names) => names.Count == 0 ? "-" : string.Join(", ", names);

    private void LogErrors(IEnumerable<JobFileError> errors)
    {
        foreach (var error in errors)
        {
            LogInvalidJobFile(_logger, error.File, error.ToString());
        }
    }

    /// <summary>One reading of the folder: the valid jobs by name and the invalid files.</summary>
    internal sealed record Snapshot(IReadOnlyDictionary<string, JobSpec> Jobs, IReadOnlyDictionary<string, StreamsJob> Streams, IReadOnlyList<InvalidJobFile> Invalid)
    {
        public static Snapshot Of(JobDirectoryResult result) => new(result.Jobs, result.Streams, result.InvalidFiles);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job file {File} is invalid, its job does not run: {Error}")]
    private static partial void LogInvalidJobFile(ILogger logger, string file, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Jobs folder {Directory} read again: added {Added}; changed {Changed}; removed {Removed}; {Invalid} invalid file(s)")]
    private static partial void LogReloaded(ILogger logger, string directory, string added, string changed, string removed, int invalid);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Jobs folder {Directory} could not be read again; the jobs stay as they were: {Error}")]
    private static partial void LogReloadFailed(ILogger logger, string directory, string error);
}

/// <summary>What a reload of the jobs folder changed: job names added, changed and removed, and the invalid files now listed.</summary>
public sealed record JobCatalogChange(
    IReadOnlyList<string> Added,
    IReadOnlyList<string> Changed,
    IReadOnlyList<string> Removed,
    IReadOnlyList<InvalidJobFile> Invalid,
    IReadOnlyList<string> Errors)
{
    /// <summary>Whether the jobs that run, or the invalid files listed, differ from before.</summary>
    public bool Any => Added.Count + Changed.Count + Removed.Count > 0 || InvalidChanged;

    internal bool InvalidChanged { get; init; }

    internal static JobCatalogChange Between(JobCatalog.Snapshot before, JobCatalog.Snapshot after)
    {
        var added = after.Jobs.Keys.Where(k => !before.Jobs.ContainsKey(k))
            .Concat(after.Streams.Keys.Where(k => !before.Streams.ContainsKey(k)))
            .Order(StringComparer.Ordinal).ToList();
        var removed = before.Jobs.Keys.Where(k => !after.Jobs.ContainsKey(k))
            .Concat(before.Streams.Keys.Where(k => !after.Streams.ContainsKey(k)))
            .Order(StringComparer.Ordinal).ToList();
        var changed = after.Jobs
            .Where(j => before.Jobs.TryGetValue(j.Key, out var old) && !SameDefinition(old, j.Value))
            .Select(j => j.Key)
            .Concat(after.Streams.Where(j => before.Streams.TryGetValue(j.Key, out var old) && !SameStreams(old, j.Value)).Select(j => j.Key))
            .Order(StringComparer.Ordinal)
            .ToList();
        var invalidChanged = !before.Invalid.Select(Describe).SequenceEqual(after.Invalid.Select(Describe), StringComparer.Ordinal);
        return new JobCatalogChange(added, changed, removed, after.Invalid, after.Invalid.SelectMany(f => f.Errors).Select(e => e.ToString()).ToList())
        {
            InvalidChanged = invalidChanged,
        };
    }

    /// <summary>Records with lists compare lists by reference, so definitions are compared by their JSON.</summary>
    internal static bool SameDefinition(JobSpec a, JobSpec b) =>
        JsonSerializer.Serialize(a).Equals(JsonSerializer.Serialize(b), StringComparison.Ordinal);

    internal static bool SameStreams(StreamsJob a, StreamsJob b) =>
        JsonSerializer.Serialize(a).Equals(JsonSerializer.Serialize(b), StringComparison.Ordinal);

    private static string Describe(InvalidJobFile file) => $"{file.File}\n{string.Join("\n", file.Errors)}";
}
