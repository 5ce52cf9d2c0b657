using System.Diagnostics;
using System.IO.Compression;
using System.Xml.Linq;

namespace Sync.Cli.Tests;

/// <summary>
/// The CLI is a .NET tool whose command is <c>syncctl</c>, not <c>sync</c>: coreutils' /usr/bin/sync
/// answers <c>sync jobs</c> with exit 0 and nothing printed (issue 18, item 5).
/// </summary>
public sealed class ToolPackageTests
{
    [Fact]
    public async Task The_packed_tool_installs_the_command_syncctl()
    {
        var output = Directory.CreateTempSubdirectory("syncctl-pack-");
        try
        {
            // The test project built the CLI in its own configuration: pack those outputs, no restore, no network.
            var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";
            var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var argument in new[] { "pack", Path.Combine(TestInfrastructure.RepositoryRoot, "tools", "Sync.Cli", "Sync.Cli.csproj"), "-c", configuration, "--no-build", "-o", output.FullName, "-nologo" })
            {
                start.ArgumentList.Add(argument);
            }

            using var pack = Process.Start(start)!;
            var stdout = pack.StandardOutput.ReadToEndAsync();
            var stderr = pack.StandardError.ReadToEndAsync();
            await pack.WaitForExitAsync();
            Assert.True(pack.ExitCode == 0, $"dotnet pack exited {pack.ExitCode}:\n{await stdout}\n{await stderr}");

            var package = Assert.Single(output.GetFiles("*.nupkg"));
            using var zip = ZipFile.OpenRead(package.FullName);
            var settings = zip.Entries.SingleOrDefault(e => e.FullName.EndsWith("/DotnetToolSettings.xml", StringComparison.Ordinal));
            Assert.True(settings is not null, "the package is not a .NET tool (no DotnetToolSettings.xml): " + string.Join(", ", zip.Entries.Select(e => e.FullName)));
            await using var stream = settings.Open();
            var command = Assert.Single(XDocument.Load(stream).Descendants("Command"));
            Assert.Equal("syncctl", command.Attribute("Name")?.Value);
            Assert.Equal("syncctl.dll", command.Attribute("EntryPoint")?.Value);
        }
        finally
        {
            output.Delete(recursive: true);
        }
    }
}
