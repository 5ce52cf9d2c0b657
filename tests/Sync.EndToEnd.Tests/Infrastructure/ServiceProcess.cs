using System.Diagnostics;
using System.Text;

namespace Sync.EndToEnd.Tests.Infrastructure;

/// <summary>One Sync service running as a real process (dotnet Sync.X.dll), killable with SIGKILL.</summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private readonly string _service;
    private readonly IReadOnlyDictionary<string, string> _environment;
    private readonly string[] _arguments;
    private readonly StringBuilder _output = new();
    private Process? _process;

    public ServiceProcess(string service, IReadOnlyDictionary<string, string> environment, params string[] arguments)
    {
        _service = service;
        _environment = environment;
        _arguments = arguments;
    }

    public string Name => _service;

    /// <summary>Which process of its service this is, from 1 (SyncDeployment.SetInstances).</summary>
    public int Instance { get; init; } = 1;

    public bool HasExited => _process is null || _process.HasExited;

    /// <summary>The operating system's id of the running process; null before it started.</summary>
    public int? ProcessId => _process is { HasExited: false } process ? process.Id : null;

    public int? ExitCode => _process is { HasExited: true } process ? process.ExitCode : null;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>The configuration the tests were built in (Release or Debug): the services and plugins are taken from the same.</summary>
    public static string BuildConfiguration { get; } =
        AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";

    public static string DllPath(string service) => AppPath(Path.Combine("services", service), $"Sync.{service}.dll");

    /// <summary>
    /// An application's assembly: from its ReadyToRun publish when SYNC_TEST_PUBLISHED_RID names the
    /// runtime it was published for (`./run test` publishes the services and syncctl so, and a service
    /// then starts in about half the CPU time: hundreds start in a run of the suite), else from its build.
    /// </summary>
    public static string AppPath(string projectFolder, string assembly)
    {
        var output = Path.Combine(TestInfrastructure.RepositoryRoot, projectFolder, "bin", BuildConfiguration, "net10.0");
        return Environment.GetEnvironmentVariable("SYNC_TEST_PUBLISHED_RID") is { Length: > 0 } rid
            ? Path.Combine(output, rid, "publish", assembly)
            : Path.Combine(output, assembly);
    }

    public void Start()
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(DllPath(_service))!,
        };
        start.ArgumentList.Add(DllPath(_service));
        foreach (var argument in _arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in _environment)
        {
            start.Environment[key] = value;
        }

        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        start.Environment["Logging__LogLevel__Default"] = "Information";
        start.Environment["Logging__LogLevel__Microsoft.EntityFrameworkCore"] = "Warning";
        start.Environment["Logging__LogLevel__Microsoft.AspNetCore"] = "Warning";
        _process = new Process { StartInfo = start, EnableRaisingEvents = true };
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>SIGKILL: no shutdown hooks, no flushing, no acknowledgements.</summary>
    public async Task KillAsync()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    /// <summary>SIGSTOP: the process freezes with its connections open and its messages unacknowledged.</summary>
    public Task PauseAsync() => SignalAsync("STOP");

    /// <summary>SIGCONT after <see cref="PauseAsync"/>.</summary>
    public Task ResumeAsync() => SignalAsync("CONT");

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancellation = new CancellationTokenSource(timeout);
        await _process!.WaitForExitAsync(cancellation.Token);
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process?.Dispose();
    }

    private async Task SignalAsync(string signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", _process!.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync();
        if (kill.ExitCode != 0)
        {
            throw new InvalidOperationException($"kill -{signal} of the {_service} failed ({kill.ExitCode}).");
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            // Keep the tail: enough to explain a failure, bounded for long runs.
            if (_output.Length > 400_000)
            {
                _output.Remove(0, 200_000);
            }

            _output.AppendLine(line);
        }
    }
}
