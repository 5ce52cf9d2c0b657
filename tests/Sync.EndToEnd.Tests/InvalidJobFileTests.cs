using Sync.EndToEnd.Tests.Infrastructure;

namespace Sync.EndToEnd.Tests;

public sealed class InvalidJobFileTests
{
    [Fact]
    public async Task Coordinator_refuses_to_start_and_names_the_file_and_the_fields()
    {
        await using var sync = await SyncDeployment.CreateAsync("badjob");
        sync.WriteJob("good.yml", OrdersTable.Job("good", "orders"));
        sync.WriteJob("broken.yml", """
            name: broken
            batch_size: 5
            sorce:
              type: postgres
            destination:
              type: postgres
              connection: destination
              table: public.orders
            """);

        var coordinator = sync.CreateService("Coordinator");
        coordinator.Start();
        var exitCode = await coordinator.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.NotEqual(0, exitCode);
        var output = coordinator.Output;
        Assert.Contains("broken.yml:2:13: batch_size:", output, StringComparison.Ordinal);
        Assert.Contains("broken.yml:3:1: sorce:", output, StringComparison.Ordinal);
        Assert.Contains("source", output, StringComparison.Ordinal);
        Assert.DoesNotContain("good.yml", output, StringComparison.Ordinal);
        await coordinator.DisposeAsync();
    }
}
