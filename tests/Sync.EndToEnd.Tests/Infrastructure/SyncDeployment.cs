using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Sync.EndToEnd.Tests.Infrastructure;

/// <summary>
/// A whole Sync installation for one test: its own control, source and destination databases, its
/// own RabbitMQ virtual host and jobs folder, and the four services as real processes.
/// </summary>
public sealed class SyncDeployment : IAsyncDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly List<ServiceProcess> _services = [];
    private readonly Dictionary<string, string> _extraEnvironment = new(StringComparer.Ordinal);

    private SyncDeployment(string id)
    {
        Id = id;
        JobsDirectory = Directory.CreateTempSubdirectory($"sync-{id}-jobs").FullName;
        ApiPort = FreePort();
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{ApiPort}"), Timeout = TimeSpan.FromSeconds(30) };
    }

    public string Id { get; }

    public string JobsDirectory { get; }

    public int ApiPort { get; }

    public HttpClient Http { get; }

    public string ControlDatabase => $"{Id}_control";

    public string SourceDatabase => $"{Id}_source";

    public string DestinationDatabase => $"{Id}_dest";

    public string Source => TestInfrastructure.ConnectionString(SourceDatabase);

    public string Destination => TestInfrastructure.ConnectionString(DestinationDatabase);

    public string Control => TestInfrastructure.ConnectionString(ControlDatabase);

    public ServiceProcess Coordinator => _services.Single(s => s.Name == "Coordinator");

    public static async Task<SyncDeployment> CreateAsync(string name)
    {
        var deployment = new SyncDeployment($"{name}_{Guid.NewGuid():N}"[..Math.Min(40, name.Length + 9)].ToLowerInvariant());
        await TestInfrastructure.CreateDatabaseAsync(deployment.ControlDatabase);
        await TestInfrastructure.CreateDatabaseAsync(deployment.SourceDatabase);
        await TestInfrastructure.CreateDatabaseAsync(deployment.DestinationDatabase);
        await TestInfrastructure.CreateVirtualHostAsync(deployment.Id);
        return deployment;
    }

    public void WriteJob(string fileName, string yaml) => File.WriteAllText(Path.Combine(JobsDirectory, fileName), yaml);

    public void SetEnvironment(string key, string value) => _extraEnvironment[key] = value;

    public IReadOnlyDictionary<string, string> Environment()
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["ConnectionStrings__Control"] = Control,
            ["RabbitMq__Host"] = TestInfrastructure.RabbitHost,
            ["RabbitMq__Port"] = TestInfrastructure.RabbitPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["RabbitMq__Username"] = TestInfrastructure.RabbitUser,
            ["RabbitMq__Password"] = TestInfrastructure.RabbitPassword,
            ["RabbitMq__VirtualHost"] = Id,
            ["Jobs__Directory"] = JobsDirectory,
            ["Connections__source"] = Source,
            ["Connections__destination"] = Destination,
        };
        foreach (var (key, value) in _extraEnvironment)
        {
            environment[key] = value;
        }

        return environment;
    }

    public ServiceProcess CreateService(string service) =>
        service == "Coordinator"
            ? new ServiceProcess(service, Environment(), "--urls", $"http://127.0.0.1:{ApiPort}")
            : new ServiceProcess(service, Environment());

    /// <summary>Starts the four services and waits until the Coordinator answers.</summary>
    public async Task StartAsync()
    {
        foreach (var name in new[] { "Loader", "Transformer", "Extractor", "Coordinator" })
        {
            var service = CreateService(name);
            service.Start();
            _services.Add(service);
        }

        await WaitForCoordinatorAsync();
    }

    public async Task RestartCoordinatorAsync()
    {
        var old = Coordinator;
        await old.KillAsync();
        _services.Remove(old);
        await old.DisposeAsync();
        var service = CreateService("Coordinator");
        service.Start();
        _services.Add(service);
        await WaitForCoordinatorAsync();
    }

    public async Task WaitForCoordinatorAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (DateTime.UtcNow < deadline)
        {
            if (Coordinator.HasExited)
            {
                throw new InvalidOperationException($"The Coordinator exited ({Coordinator.ExitCode}):\n{Coordinator.Output}");
            }

            try
            {
                using var response = await Http.GetAsync("/health");
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"The Coordinator did not become healthy:\n{Coordinator.Output}");
    }

    public async Task<Guid> StartRunAsync(string job)
    {
        using var response = await Http.PostAsync($"/api/jobs/{job}/runs", content: null);
        var body = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != HttpStatusCode.Accepted)
        {
            throw new InvalidOperationException($"Starting {job} answered {(int)response.StatusCode}: {body}");
        }

        return JsonSerializer.Deserialize<RunStartedResult>(body, Json)!.RunId;
    }

    public async Task<RunResult?> GetRunAsync(Guid runId)
    {
        using var response = await Http.GetAsync($"/api/runs/{runId}");
        return response.StatusCode == HttpStatusCode.NotFound ? null : await response.Content.ReadFromJsonAsync<RunResult>(Json);
    }

    public async Task<RunResult> WaitForRunAsync(Guid runId, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(120));
        RunResult? run = null;
        while (DateTime.UtcNow < deadline)
        {
            run = await GetRunAsync(runId);
            if (run is { IsFinished: true })
            {
                return run;
            }

            await Task.Delay(200);
        }

        throw new TimeoutException($"Run {runId} did not finish; last seen {run}.\n{Logs()}");
    }

    public async Task<RunResult> RunAsync(string job, TimeSpan? timeout = null) => await WaitForRunAsync(await StartRunAsync(job), timeout);

    public string Logs()
    {
        var text = new StringBuilder();
        foreach (var service in _services)
        {
            var output = service.Output;
            text.AppendLine($"----- {service.Name} -----").AppendLine(output.Length > 8000 ? output[^8000..] : output);
        }

        return text.ToString();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var service in _services)
        {
            await service.DisposeAsync();
        }

        Http.Dispose();
        await TestInfrastructure.DropDatabaseAsync(ControlDatabase);
        await TestInfrastructure.DropDatabaseAsync(SourceDatabase);
        await TestInfrastructure.DropDatabaseAsync(DestinationDatabase);
        await TestInfrastructure.DeleteVirtualHostAsync(Id);
        Directory.Delete(JobsDirectory, recursive: true);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

public sealed record RunStartedResult(Guid RunId, string JobName);

public sealed record RunResult(
    Guid RunId,
    string JobName,
    string State,
    int? ExpectedBatches,
    int LoadedBatches,
    long ExtractedRows,
    long Processed,
    long Inserted,
    long Updated,
    long Skipped,
    long Errors,
    string? FailureReason,
    long? DurationMs)
{
    public bool IsFinished => State is "Completed" or "Failed" or "Rejected";
}
