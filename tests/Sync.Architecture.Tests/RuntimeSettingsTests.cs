using System.Text.Json;

namespace Sync.Architecture.Tests;

/// <summary>
/// The runtime settings services/Directory.Build.props gives every service (issue 16): workstation
/// GC and no thread-pool spin, which profiles showed costing a fifth of a data stage's CPU; no tiered
/// compilation, whose re-compilations of the per-batch path fell inside the bench's measured runs.
/// </summary>
public sealed class RuntimeSettingsTests
{
    public static TheoryData<string> Services => [.. Projects.Services];

    [Theory]
    [MemberData(nameof(Services))]
    public void A_service_runs_with_workstation_GC_and_no_thread_pool_spin(string service)
    {
        // This project references every service, so their runtimeconfig.json files sit beside it.
        var file = Path.Combine(AppContext.BaseDirectory, service + ".runtimeconfig.json");
        using var config = JsonDocument.Parse(File.ReadAllText(file));
        var properties = config.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties");

        Assert.True(properties.TryGetProperty("System.GC.Server", out var server) && !server.GetBoolean(), $"{service}: System.GC.Server is not false");
        Assert.True(
            properties.TryGetProperty("System.Threading.ThreadPool.UnfairSemaphoreSpinLimit", out var spin) && spin.GetInt32() == 0,
            $"{service}: System.Threading.ThreadPool.UnfairSemaphoreSpinLimit is not 0");
    }

    [Theory]
    [MemberData(nameof(Services))]
    public void A_service_compiles_each_method_once_without_tiers(string service)
    {
        var file = Path.Combine(AppContext.BaseDirectory, service + ".runtimeconfig.json");
        using var config = JsonDocument.Parse(File.ReadAllText(file));
        var properties = config.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties");

        Assert.True(
            properties.TryGetProperty("System.Runtime.TieredCompilation", out var tiered) && !tiered.GetBoolean(),
            $"{service}: System.Runtime.TieredCompilation is not false");
    }
}
