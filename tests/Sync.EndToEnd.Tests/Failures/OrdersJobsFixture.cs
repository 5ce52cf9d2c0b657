using Sync.EndToEnd.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Sync.EndToEnd.Tests.Failures;

/// <summary>
/// One deployment shared by the tests of a class that neither kill nor pause a service nor touch
/// the shared servers: each test has its own orders job and table, added before the services start,
/// so the class pays for one start of the four processes instead of one per test.
/// </summary>
public abstract class OrdersJobsFixture(string name) : IAsyncLifetime
{
    private readonly Dictionary<string, (string Table, int Rows)> _jobs = new(StringComparer.Ordinal);

    public SyncDeployment Deployment { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Deployment = await SyncDeployment.CreateAsync(name);
        await PrepareAsync();
        await Deployment.StartAsync();
    }

    public virtual async Task DisposeAsync() => await Deployment.DisposeAsync();

    /// <summary>The job <paramref name="job"/>, as one test sees it; disposing it leaves the deployment running.</summary>
    internal OrdersSync Sync(string job, ITestOutputHelper output) => OrdersSync.Of(Deployment, job, _jobs[job].Table, _jobs[job].Rows, output);

    /// <summary>Adds the class's jobs (<see cref="AddJobAsync"/>) and whatever else they need before the services start.</summary>
    protected abstract Task PrepareAsync();

    /// <summary>An orders job whose table, on both sides, is orders_ and the job name with _ for -.</summary>
    protected async Task<string> AddJobAsync(string job, int rows, int batchSize, string conflict = "latest-wins", string sourceConnection = "source")
    {
        var table = $"orders_{job.Replace('-', '_')}";
        await OrdersSync.AddJobAsync(Deployment, job, table, rows, batchSize, conflict, sourceConnection);
        _jobs.Add(job, (table, rows));
        return table;
    }
}
