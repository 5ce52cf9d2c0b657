using System.Diagnostics;
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
    private readonly List<string> _replacedOutputs = [];
    private readonly Dictionary<string, string> _extraEnvironment = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dictionary<string, string>> _serviceEnvironment = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (string User, string Password)> _brokerUsers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _instances = new(StringComparer.Ordinal) { ["Loader"] = 1, ["Transformer"] = 1, ["Extractor"] = 1, ["Coordinator"] = 1 };
    private readonly List<int> _apiPorts = [];

    private SyncDeployment(string id)
    {
        Id = id;
        JobsDirectory = Directory.CreateTempSubdirectory($"sync-{id}-jobs").FullName;
        ApiPort = FreePort();
        _apiPorts.Add(ApiPort);
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{ApiPort}"), Timeout = TimeSpan.FromSeconds(30) };
        // As the CLI and the dashboard do: changes without it are refused as cross-site (issue 20).
        Http.DefaultRequestHeaders.Add("X-Sync-Client", "tests");
    }

    public string Id { get; }

    /// <summary>The deployment's own Messaging__JobSigningKey (issue 20): random, as an installation's should be.</summary>
    public string JobSigningKey { get; } = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

    public string JobsDirectory { get; }

    /// <summary>The first Coordinator's API port; <see cref="Http"/> talks to it.</summary>
    public int ApiPort { get; }

    /// <summary>Every Coordinator's API port, the first one's first (see <see cref="SetInstances"/>).</summary>
    public IReadOnlyList<int> ApiPorts => _apiPorts;

    public HttpClient Http { get; }

    public string ControlDatabase => $"{Id}_control";

    public string SourceDatabase => $"{Id}_source";

    public string DestinationDatabase => $"{Id}_dest";

    public string Source => TestInfrastructure.ConnectionString(SourceDatabase);

    public string Destination => TestInfrastructure.ConnectionString(DestinationDatabase);

    public string Control => TestInfrastructure.ConnectionString(ControlDatabase);

    /// <summary>The first Coordinator (instance 1).</summary>
    public ServiceProcess Coordinator => Service("Coordinator");

    /// <summary>
    /// Each service logs in to the broker as a user of its own with only the permissions of
    /// deploy/rabbitmq/permissions.tsv, its password given only as a file (<c>RabbitMq__Password_FILE</c>);
    /// otherwise all use the administrator. Set before <see cref="StartAsync"/>.
    /// </summary>
    public bool UseBrokerUsers { get; set; }

    /// <summary>The broker user and password of <paramref name="service"/> (Coordinator, Extractor, …) under <see cref="UseBrokerUsers"/>.</summary>
    public (string User, string Password) BrokerUser(string service) => _brokerUsers[service.ToLowerInvariant()];

    /// <summary>How many Loader processes <see cref="StartAsync"/> starts (default 1); with more, each gets Loader__InstanceName loader-1, loader-2, ….</summary>
    public int LoaderCount
    {
        get => _instances["Loader"];
        set => SetInstances("Loader", value);
    }

    /// <summary>
    /// How many processes of <paramref name="service"/> <see cref="StartAsync"/> starts (default 1). Set before it.
    /// Coordinators beyond the first get API ports of their own (<see cref="ApiPorts"/>) and share the control database.
    /// </summary>
    public void SetInstances(string service, int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        _ = _instances[service];
        _instances[service] = count;
        while (service == "Coordinator" && _apiPorts.Count < count)
        {
            _apiPorts.Add(FreePort());
        }
    }

    /// <summary>Instance <paramref name="instance"/> (from 1) of <paramref name="name"/>.</summary>
    public ServiceProcess Service(string name, int instance = 1) => _services.Single(s => s.Name == name && s.Instance == instance);

    /// <summary>Every running or killed process of <paramref name="name"/>.</summary>
    public IReadOnlyList<ServiceProcess> Services(string name) => _services.Where(s => s.Name == name).OrderBy(s => s.Instance).ToList();

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

    /// <summary>A setting of one service only (its own health port, say), over <see cref="SetEnvironment"/>'s.</summary>
    public void SetServiceEnvironment(string service, string key, string value)
    {
        if (!_serviceEnvironment.TryGetValue(service, out var environment))
        {
            _serviceEnvironment[service] = environment = new Dictionary<string, string>(StringComparer.Ordinal);
        }

        environment[key] = value;
    }

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
            ["Messaging__JobSigningKey"] = JobSigningKey,
        };
        foreach (var (key, value) in _extraEnvironment)
        {
            environment[key] = value;
        }

        return environment;
    }

    public ServiceProcess CreateService(string service) => CreateService(service, 1);

    private ServiceProcess CreateService(string service, int instance) => service switch
    {
        "Coordinator" => new ServiceProcess(service, WithServiceEnvironment(service, WithBrokerUser(service, CoordinatorEnvironment())), "--urls", $"http://127.0.0.1:{_apiPorts[instance - 1]}") { Instance = instance },
        "Loader" when LoaderCount > 1 => CreateLoader(instance),
        _ => new ServiceProcess(service, WithServiceEnvironment(service, WithBrokerUser(service, Environment()))) { Instance = instance },
    };

    private IReadOnlyDictionary<string, string> WithServiceEnvironment(string service, IReadOnlyDictionary<string, string> environment)
    {
        if (!_serviceEnvironment.TryGetValue(service, out var own))
        {
            return environment;
        }

        var merged = new Dictionary<string, string>(environment, StringComparer.Ordinal);
        foreach (var (key, value) in own)
        {
            merged[key] = value;
        }

        return merged;
    }

    /// <summary>
    /// The Coordinator's environment: no source or destination connection of any kind
    /// (Connections__*, HttpConnections__*, S3Connections__*, …). The stages that hold them answer
    /// its requests (issue 17), so every test proves it needs none.
    /// </summary>
    public IReadOnlyDictionary<string, string> CoordinatorEnvironment() =>
        Environment().Where(e => !e.Key.Contains("Connections__", StringComparison.Ordinal)).ToDictionary(StringComparer.Ordinal);

    private ServiceProcess CreateLoader(int instance) =>
        new("Loader", new Dictionary<string, string>(WithServiceEnvironment("Loader", WithBrokerUser("Loader", Environment())), StringComparer.Ordinal) { ["Loader__InstanceName"] = $"loader-{instance}" }) { Instance = instance };

    private IReadOnlyDictionary<string, string> WithBrokerUser(string service, IReadOnlyDictionary<string, string> environment)
    {
        if (!UseBrokerUsers)
        {
            return environment;
        }

        var (user, _) = BrokerUser(service);
        var withUser = environment.Where(e => e.Key != "RabbitMq__Password").ToDictionary(StringComparer.Ordinal);
        withUser["RabbitMq__Username"] = user;
        withUser["RabbitMq__Password_FILE"] = Path.Combine(SecretsDirectory, $"rabbitmq-{service.ToLowerInvariant()}");
        return withUser;
    }

    private string SecretsDirectory => JobsDirectory + "-secrets";

    private async Task CreateBrokerUsersAsync()
    {
        Directory.CreateDirectory(SecretsDirectory);
        foreach (var (service, permissions) in BrokerPermissions.ByService)
        {
            if (_brokerUsers.ContainsKey(service))
            {
                continue;
            }

            var user = $"{Id}-{service}";
            var password = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
            await TestInfrastructure.CreateBrokerUserAsync(user, password, Id, permissions);
            _brokerUsers[service] = (user, password);
            await File.WriteAllTextAsync(Path.Combine(SecretsDirectory, $"rabbitmq-{service}"), password + "\n");
        }
    }

    /// <summary>Starts the four services (<see cref="SetInstances"/> of each) and waits until every Coordinator answers.</summary>
    public async Task StartAsync()
    {
        if (UseBrokerUsers)
        {
            await CreateBrokerUsersAsync();
        }

        foreach (var name in new[] { "Loader", "Transformer", "Extractor", "Coordinator" })
        {
            for (var instance = 1; instance <= _instances[name]; instance++)
            {
                var service = CreateService(name, instance);
                service.Start();
                _services.Add(service);
            }
        }

        try
        {
            for (var instance = 1; instance <= _instances["Coordinator"]; instance++)
            {
                await WaitForCoordinatorAsync(instance);
            }
        }
        catch
        {
            // xUnit disposes no test class or fixture whose InitializeAsync threw: without this the
            // three other processes outlive the test and starve the tests after it of CPU.
            foreach (var service in _services)
            {
                await service.KillAsync();
            }

            throw;
        }
    }

    public Task RestartCoordinatorAsync() => RestartServiceAsync("Coordinator");

    /// <summary>SIGKILL of one service, then a fresh process of it; waits for the Coordinator to answer when it is the one.</summary>
    public async Task RestartServiceAsync(string name, int instance = 1)
    {
        await KillServiceAsync(name, instance);
        await StartServiceAsync(name, instance);
    }

    /// <summary>SIGKILL of one service; it stays down until <see cref="StartServiceAsync"/>.</summary>
    public Task KillServiceAsync(string name, int instance = 1) => Service(name, instance).KillAsync();

    /// <summary>Replaces a killed service with a fresh process of it.</summary>
    public async Task StartServiceAsync(string name, int instance = 1)
    {
        var old = Service(name, instance);
        if (!old.HasExited)
        {
            throw new InvalidOperationException($"The {name} is still running; kill it first.");
        }

        _services.Remove(old);
        await old.DisposeAsync();
        _replacedOutputs.Add($"----- {Label(old)} (killed) -----\n{Tail(old.Output)}");
        var service = CreateService(name, instance);
        service.Start();
        _services.Add(service);
        if (name == "Coordinator")
        {
            await WaitForCoordinatorAsync(instance);
        }
    }

    public Task WaitForCoordinatorAsync() => WaitForCoordinatorAsync(1);

    private async Task WaitForCoordinatorAsync(int instance)
    {
        var coordinator = Service("Coordinator", instance);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{_apiPorts[instance - 1]}") };
        // Each probe has its own short timeout: on a loaded CI machine a Coordinator still starting
        // may leave one request unanswered for longer than HttpClient's 30 s, which is not a failure
        // as long as it answers before the overall deadline.
        var deadline = DateTime.UtcNow.AddSeconds(150);
        while (DateTime.UtcNow < deadline)
        {
            if (coordinator.HasExited)
            {
                throw new InvalidOperationException($"The Coordinator exited ({coordinator.ExitCode}):\n{coordinator.Output}");
            }

            try
            {
                using var probe = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                using var response = await http.GetAsync("/health", probe.Token);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"The Coordinator did not become healthy:\n{coordinator.Output}");
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
        return response.StatusCode == HttpStatusCode.NotFound ? null : await response.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<RunResult>(Json);
    }

    public async Task<RunResult> WaitForRunAsync(Guid runId, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(120));
        RunResult? run = null;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                run = await GetRunAsync(runId);
                if (run is { IsFinished: true })
                {
                    return run;
                }
            }
            catch (HttpRequestException)
            {
                // The Coordinator cannot answer while its database or the broker is down (failure tests): ask again.
            }

            await Task.Delay(200);
        }

        throw new TimeoutException($"Run {runId} did not finish; last seen {run}.\n{Logs()}");
    }

    public async Task<RunResult> RunAsync(string job, TimeSpan? timeout = null) => await WaitForRunAsync(await StartRunAsync(job), timeout);

    /// <summary>The first run of <paramref name="job"/> its schedule started (trigger <c>schedule</c>), once it has finished.</summary>
    public async Task<RunResult> WaitForScheduledRunAsync(string job, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            var runs = await Http.GetFromJsonAsync<List<RunResult>>($"/api/jobs/{job}/runs?limit=500", Json);
            if (runs!.LastOrDefault(r => r.Trigger == "schedule") is { } scheduled)
            {
                return await WaitForRunAsync(scheduled.RunId, deadline - DateTime.UtcNow);
            }

            await Task.Delay(500);
        }

        throw new TimeoutException($"No scheduled run of {job} started.\n{Logs()}");
    }

    /// <summary>Runs the <c>syncctl</c> CLI against this deployment's Coordinator; the output has stderr and the services' logs appended when it fails.</summary>
    public async Task<(int Code, string Output)> CliAsync(string? apiKey, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        start.ArgumentList.Add(ServiceProcess.AppPath(Path.Combine("tools", "Sync.Cli"), "syncctl.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["SYNC_URL"] = Http.BaseAddress!.ToString();
        if (apiKey is not null)
        {
            start.Environment["SYNC_API_KEY"] = apiKey;
        }

        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, (await stdout) + (process.ExitCode == 0 ? string.Empty : "\n" + await stderr + "\n" + Logs()));
    }

    public string Logs()
    {
        var text = new StringBuilder();
        foreach (var replaced in _replacedOutputs)
        {
            text.AppendLine(replaced);
        }

        foreach (var service in _services)
        {
            text.AppendLine($"----- {Label(service)} -----").AppendLine(Tail(service.Output));
        }

        return text.ToString();
    }

    private string Label(ServiceProcess service) => _instances[service.Name] > 1 ? $"{service.Name} {service.Instance}" : service.Name;

    private static string Tail(string output) => output.Length > 8000 ? output[^8000..] : output;

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
        foreach (var (user, _) in _brokerUsers.Values)
        {
            await TestInfrastructure.DeleteBrokerUserAsync(user);
        }

        Directory.Delete(JobsDirectory, recursive: true);
        if (Directory.Exists(SecretsDirectory))
        {
            Directory.Delete(SecretsDirectory, recursive: true);
        }
    }

    internal static int FreePort()
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
    long? DurationMs,
    string? Trigger = null)
{
    public bool IsFinished => State is "Completed" or "Failed" or "Rejected";
}
