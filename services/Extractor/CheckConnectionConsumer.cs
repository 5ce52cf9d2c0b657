using MassTransit;
using Npgsql;
using Microsoft.Extensions.Configuration;
using Sync.Connectors;
using Sync.Connectors.Http;
using Sync.Contracts;
using Sync.ObjectStorage;

namespace Sync.Extractor;

/// <summary>
/// Opens a PostgreSQL connection for POST /api/connections/{name}/check: <c>SELECT 1</c>, the server
/// version, and what cdc needs (wal_level logical, a role with REPLICATION). A failure is the answer,
/// with the connection's password masked wherever the message might repeat it. An http source's
/// connection (HttpConnections__NAME__BaseUrl) is checked by a GET of its base address: any HTTP
/// answer means the API answers. An S3 connection (S3Connections__NAME__Bucket) by listing one key of
/// its bucket (<see cref="S3ConnectionCheck"/>), its keys masked.
/// </summary>
internal sealed class CheckConnectionConsumer(ConnectionCatalog connections, HttpConnections httpConnections, S3Connections s3Connections, IConfiguration configuration) : IConsumer<CheckConnection>
{
    public async Task Consume(ConsumeContext<CheckConnection> context)
    {
        var name = context.Message.Connection;
        if (!connections.IsDefined(name) && configuration.GetSection(HttpConnections.SectionName).GetSection(name)["BaseUrl"] is { Length: > 0 })
        {
            await context.RespondAsync(await CheckHttpAsync(name, context.CancellationToken));
            return;
        }

        if (!connections.IsDefined(name) && s3Connections.IsDefined(name))
        {
            var (ok, answer) = await S3ConnectionCheck.CheckAsync(s3Connections, configuration, name, context.CancellationToken);
            await context.RespondAsync(ok
                ? new ConnectionChecked(name, Known: true, Ok: true, Kind: "s3", ServerVersion: answer)
                : new ConnectionChecked(name, Known: true, Ok: false, Kind: "s3", Error: answer));
            return;
        }

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

    private async Task<ConnectionChecked> CheckHttpAsync(string name, CancellationToken cancellationToken)
    {
        HttpConnection api;
        try
        {
            api = httpConnections.Get(name);
        }
        catch (SourceSchemaException exception)
        {
            return new ConnectionChecked(name, Known: true, Ok: false, Kind: "http", Error: exception.Message);
        }

        using var client = new HttpClient { Timeout = api.RequestTimeout };
        using var request = new HttpRequestMessage(HttpMethod.Get, api.BaseUrl);
        if (api.AuthSecret is { Length: > 0 } secret)
        {
            request.Headers.TryAddWithoutValidation(api.AuthHeader, secret);
        }

        try
        {
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            return new ConnectionChecked(name, Known: true, Ok: true, Kind: "http", ServerVersion: $"HTTP {(int)response.StatusCode} from {api.BaseUrl}");
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException)
        {
            var message = api.AuthSecret is { Length: > 0 } s ? exception.Message.Replace(s, "***", StringComparison.Ordinal) : exception.Message;
            return new ConnectionChecked(name, Known: true, Ok: false, Kind: "http", Error: $"{api.BaseUrl} does not answer: {message}");
        }
    }

    private string Masked(string message, string name)
    {
        var password = new NpgsqlConnectionStringBuilder(connections.GetConnectionString(name)).Password;
        return string.IsNullOrEmpty(password) ? message : message.Replace(password, "***", StringComparison.Ordinal);
    }
}
