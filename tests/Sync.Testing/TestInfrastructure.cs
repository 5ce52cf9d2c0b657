using System.Diagnostics;
using Npgsql;

namespace Sync.Testing;

/// <summary>
/// The PostgreSQL and RabbitMQ that ./run test started (scripts/infra.sh), as its SYNC_*
/// variables describe them: the one reading of those settings for every test project, so an
/// in-process test and an end-to-end deployment cannot talk to two different servers.
/// Each test deployment gets its own databases and virtual host.
/// </summary>
public static class TestInfrastructure
{
    public static string PgHost => Env("SYNC_PG_HOST", "127.0.0.1");

    public static int PgPort => int.Parse(Env("SYNC_PG_PORT", "55432"));

    public static string PgUser => Env("SYNC_PG_USER", "sync");

    public static string PgPassword => Env("SYNC_PG_PASSWORD", "sync");

    public static string RabbitHost => Env("SYNC_RABBIT_HOST", "127.0.0.1");

    public static int RabbitPort => int.Parse(Env("SYNC_RABBIT_PORT", "55672"));

    public static string RabbitUser => Env("SYNC_RABBIT_USER", "sync");

    public static string RabbitPassword => Env("SYNC_RABBIT_PASSWORD", "sync");

    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    public static string ConnectionString(string database) =>
        new NpgsqlConnectionStringBuilder
        {
            Host = PgHost,
            Port = PgPort,
            Username = PgUser,
            Password = PgPassword,
            Database = database,
            Pooling = true,
            MaxPoolSize = 20,
        }.ConnectionString;

    public static async Task CreateDatabaseAsync(string name)
    {
        await using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
        await command.ExecuteNonQueryAsync();
    }

    public static async Task DropDatabaseAsync(string name)
    {
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", connection);
        await command.ExecuteNonQueryAsync();
    }

    public static async Task CreateVirtualHostAsync(string name)
    {
        if (Management is { } management)
        {
            await ManagementAsync(management, HttpMethod.Put, $"vhosts/{Uri.EscapeDataString(name)}", "{}");
            await ManagementAsync(
                management,
                HttpMethod.Put,
                $"permissions/{Uri.EscapeDataString(name)}/{Uri.EscapeDataString(RabbitUser)}",
                """{"configure":".*","write":".*","read":".*"}""");
            return;
        }

        await RabbitMqCtlAsync("add_vhost", name);
        await RabbitMqCtlAsync("set_permissions", "-p", name, RabbitUser, ".*", ".*", ".*");
    }

    public static async Task DeleteVirtualHostAsync(string name)
    {
        if (Management is { } management)
        {
            await ManagementAsync(management, HttpMethod.Delete, $"vhosts/{Uri.EscapeDataString(name)}");
            return;
        }

        await RabbitMqCtlAsync("delete_vhost", name);
    }

    /// <summary>A broker user of the test's own with <paramref name="permissions"/> on <paramref name="virtualHost"/> only.</summary>
    public static async Task CreateBrokerUserAsync(string name, string password, string virtualHost, BrokerPermissions permissions)
    {
        if (Management is { } management)
        {
            await ManagementAsync(
                management,
                HttpMethod.Put,
                $"users/{Uri.EscapeDataString(name)}",
                System.Text.Json.JsonSerializer.Serialize(new { password, tags = string.Empty }));
            await ManagementAsync(
                management,
                HttpMethod.Put,
                $"permissions/{Uri.EscapeDataString(virtualHost)}/{Uri.EscapeDataString(name)}",
                System.Text.Json.JsonSerializer.Serialize(new { configure = permissions.Configure, write = permissions.Write, read = permissions.Read }));
            return;
        }

        await RabbitMqCtlAsync("add_user", name, password);
        await RabbitMqCtlAsync("set_permissions", "-p", virtualHost, name, permissions.Configure, permissions.Write, permissions.Read);
    }

    public static async Task DeleteBrokerUserAsync(string name)
    {
        if (Management is { } management)
        {
            await ManagementAsync(management, HttpMethod.Delete, $"users/{Uri.EscapeDataString(name)}");
            return;
        }

        await RabbitMqCtlAsync("delete_user", name);
    }

    public static Task<string> RabbitMqCtlAsync(params string[] arguments) => ScriptAsync("rabbitmqctl.sh", arguments);

    /// <summary>Stops the shared PostgreSQL (open connections are cut) and starts it again: every deployment sees it.</summary>
    public static async Task RestartPostgresAsync()
    {
        await ScriptAsync("pg.sh", "restart");
        // The pools of this process hold connections the restart cut.
        NpgsqlConnection.ClearAllPools();
    }

    public static Task StartPostgresAsync() => ScriptAsync("pg.sh", "start");

    /// <summary>Stops the shared RabbitMQ's application: every connection drops and the AMQP port closes, durable queues stay.</summary>
    public static Task StopRabbitMqAsync() => ScriptAsync("rabbit.sh", "stop");

    public static Task StartRabbitMqAsync() => ScriptAsync("rabbit.sh", "start");

    private static async Task<string> ScriptAsync(string script, params string[] arguments)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(RepositoryRoot, "scripts", script));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{script} {string.Join(' ', arguments)} failed ({process.ExitCode}): {await output}{await error}");
        }

        return await output;
    }

    // Virtual hosts through the management API when ./run test enabled it (SYNC_RABBIT_MANAGEMENT=1):
    // an HTTP call costs milliseconds, a rabbitmqctl call boots an Erlang VM (about a second of CPU on
    // a 2-core machine, several per test). Queue depths stay on rabbitmqctl: the API's counts are
    // statistics sampled every few seconds, rabbitmqctl asks the queues themselves.
    private static HttpClient? Management { get; } = CreateManagementClient();

    private static HttpClient? CreateManagementClient()
    {
        if (Env("SYNC_RABBIT_MANAGEMENT", "0") != "1")
        {
            return null;
        }

        var port = int.Parse(Env("SYNC_RABBIT_MGMT_PORT", (RabbitPort + 8).ToString(System.Globalization.CultureInfo.InvariantCulture)));
        var client = new HttpClient { BaseAddress = new Uri($"http://{RabbitHost}:{port}/api/"), Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue(
            "Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{RabbitUser}:{RabbitPassword}")));
        return client;
    }

    private static async Task ManagementAsync(HttpClient management, HttpMethod method, string path, string? json = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (json is not null)
        {
            request.Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
        }

        using var response = await management.SendAsync(request);
        if (!response.IsSuccessStatusCode && !(method == HttpMethod.Delete && response.StatusCode == System.Net.HttpStatusCode.NotFound))
        {
            throw new InvalidOperationException($"RabbitMQ management {method} {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
    }

    private static string Env(string name, string fallback) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : fallback;

    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Sync.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("Sync.sln not found above " + AppContext.BaseDirectory);
    }
}
