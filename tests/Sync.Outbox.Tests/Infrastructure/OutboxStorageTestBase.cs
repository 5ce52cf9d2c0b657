using Npgsql;

namespace Sync.Outbox.Tests.Infrastructure;

/// <summary>
/// The reusable storage test base: every test gets its own PostgreSQL database, created with the
/// Coordinator's real outbox migration (so the tests also prove that the migration and the EF
/// model agree), and its own RabbitMQ virtual host.
/// </summary>
public abstract class OutboxStorageTestBase : IAsyncLifetime
{
    private const string Migration = "services/Coordinator/Data/Migrations/0002_outbox.sql";
    private readonly List<OutboxHost> _hosts = [];

    protected string Database { get; } = $"outbox_{Guid.NewGuid():N}";

    protected string VirtualHost => Database;

    protected string ConnectionString => TestInfrastructure.ConnectionString(Database);

    protected TestLog Log { get; } = new();

    public async Task InitializeAsync()
    {
        await TestInfrastructure.CreateDatabaseAsync(Database);
        await ExecuteAsync(await File.ReadAllTextAsync(Path.Combine(TestInfrastructure.RepositoryRoot, Migration)));
        await ExecuteAsync("CREATE TABLE orders (id uuid PRIMARY KEY, attempt integer NOT NULL)");
        await TestInfrastructure.CreateVirtualHostAsync(VirtualHost);
    }

    public async Task DisposeAsync()
    {
        foreach (var host in _hosts)
        {
            await host.DisposeAsync();
        }

        await TestInfrastructure.DropDatabaseAsync(Database);
        await TestInfrastructure.DeleteVirtualHostAsync(VirtualHost);
    }

    /// <summary>A process of the service; several may run at once (replicas, or the one that "crashed" and its successor).</summary>
    protected async Task<OutboxHost> StartHostAsync(int retries = 0, bool backgroundServices = false, IDictionary<string, string?>? settings = null)
    {
        var host = await OutboxHost.StartAsync(Database, VirtualHost, Log, retries, backgroundServices, settings);
        _hosts.Add(host);
        return host;
    }

    protected async Task StopHostAsync(OutboxHost host)
    {
        _hosts.Remove(host);
        await host.DisposeAsync();
    }

    protected async Task<int> ExecuteAsync(string sql, params object[] parameters)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        }

        return await command.ExecuteNonQueryAsync();
    }

    protected async Task<long> CountAsync(string sql, params object[] parameters)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        }

        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    protected async Task<InboxRow?> InboxAsync(Guid messageId)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT receive_count, consumed IS NOT NULL, delivered IS NOT NULL, last_sequence_number FROM inbox_state WHERE message_id = $1", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = messageId });
        await using var reader = await command.ExecuteReaderAsync();
        return await reader.ReadAsync()
            ? new InboxRow(reader.GetInt32(0), reader.GetBoolean(1), reader.GetBoolean(2), reader.IsDBNull(3) ? null : reader.GetInt64(3))
            : null;
    }

    /// <summary>Waits until <paramref name="condition"/> holds; fails after <paramref name="seconds"/>.</summary>
    protected static async Task WaitUntilAsync(Func<Task<bool>> condition, string what, int seconds = 90)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Waited {seconds} s for: {what}");
            }

            await Task.Delay(50);
        }
    }
}

public sealed record InboxRow(int ReceiveCount, bool Consumed, bool Delivered, long? LastSequenceNumber);
