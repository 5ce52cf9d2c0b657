using Microsoft.Extensions.Options;
using Sync.Contracts.Jobs;
using Sync.Jobs;

namespace Sync.Coordinator.Jobs;

/// <summary>
/// The jobs this Coordinator runs, read from the jobs folder once at start-up. A folder with any
/// invalid file stops the Coordinator from starting, with every error listed.
/// </summary>
public sealed class JobCatalog
{
    private readonly IReadOnlyDictionary<string, JobSpec> _jobs;

    public JobCatalog(IOptions<JobsOptions> options)
    {
        Directory = Path.GetFullPath(options.Value.Directory);
        var result = JobDirectory.Load(Directory);
        result.ThrowIfInvalid();
        _jobs = result.Jobs;
    }

    public string Directory { get; }

    public IEnumerable<JobSpec> All => _jobs.Values.OrderBy(j => j.Name, StringComparer.Ordinal);

    public JobSpec? Find(string name) => _jobs.GetValueOrDefault(name);
}
