using System.Collections;
using Microsoft.Extensions.Configuration;

namespace Sync.ServiceDefaults.Tests;

/// <summary>Secrets from mounted files (issue 20): <c>NAME_FILE</c> sets <c>NAME</c> to the file's content.</summary>
public sealed class SecretFilesTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("sync-secrets").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void A_FILE_variable_sets_its_setting_to_the_files_content_over_the_environments_value()
    {
        var path = Path.Combine(_folder, "source");
        File.WriteAllText(path, "Host=db;Password=from-file\n");
        var variables = new Hashtable
        {
            ["Connections__source_FILE"] = path,
            ["Connections__other"] = "kept",
            ["_FILE"] = path,
            // Another tool's: no section, and its file is not there.
            ["TF_CLI_CONFIG_FILE"] = Path.Combine(_folder, "absent"),
        };

        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection([new("Connections:source", "Host=db;Password=from-environment")])
            .Add(new SecretFilesSource(variables))
            .Build();

        Assert.Equal("Host=db;Password=from-file", configuration["Connections:source"]);
        Assert.Null(configuration["Connections:other"]);
        Assert.Null(configuration[""]);
        Assert.Null(configuration["TF_CLI_CONFIG"]);
    }

    [Fact]
    public void A_FILE_variable_naming_a_missing_file_stops_with_the_variables_name()
    {
        var variables = new Hashtable { ["RabbitMq__Password_FILE"] = Path.Combine(_folder, "absent") };

        var error = Assert.Throws<InvalidOperationException>(() => new ConfigurationBuilder().Add(new SecretFilesSource(variables)).Build());

        Assert.Contains("RabbitMq__Password_FILE", error.Message, StringComparison.Ordinal);
    }
}
