using MassTransit;
using Npgsql;
using Sync.Connectors;
using Sync.Contracts;

namespace Sync.Extractor;

/// <summary>
/// Opens a PostgreSQL connection for POST /api/connections/{name}/check: <c>SELECT 1</c>, the server
/// version, and what cdc needs (wal_level logical, a role with REPLICATION). A failure is the answer,
/// with the connection's password masked wherever the message might repeat it.
/// </summary>
internal sealed class CheckConnectionConsumer(ConnectionCatalog connections) : IConsumer<CheckConnection>
{
    public async Task Consume(ConsumeContext<CheckConnection> context)
    {
        var name = context.Message.Connection;
        if (!connections.IsDefined(name))
        {
            await context.RespondAsync(new ConnectionChecked(name, Known: false, Ok: false, Error: new UnknownConnectionException(name).Message));
            return;
        }

        try
        {
            await using var connection = await connections.Get(name).OpenConnectionAsync(context.CancellationToken);
            await using var command = new NpgsqlCommand(
                """
                SELECT 1, current_setting('server_version'), current_setting('wal_level') = 'logical',
                       (SELECT rolreplication OR rolsuper FROM pg_roles WHERE rolname = current_user)
                """,
                connection);
            await using var reader = await command.ExecuteReaderAsync(context.CancellationToken);
            await reader.ReadAsync(context.CancellationToken);
            await context.RespondAsync(new ConnectionChecked(
                name, Known: true, Ok: true, Kind: "postgres", ServerVersion: reader.GetString(1), WalLevelLogical: reader.GetBoolean(2), CanReplicate: reader.GetBoolean(3)));
        }
        catch (Exception exception) when (exception is NpgsqlException or TimeoutException or InvalidOperationException or ArgumentException)
        {
            await context.RespondAsync(new ConnectionChecked(name, Known: true, Ok: false, Kind: "postgres", Error: Masked(exception.Message, name)));
        }
    }

    private string Masked(string message, string name)
    {
        var password = new NpgsqlConnectionStringBuilder(connections.GetConnectionString(name)).Password;
        return string.IsNullOrEmpty(password) ? message : message.Replace(password, "***", StringComparison.Ordinal);
    }
}
