using System.Collections.Concurrent;
using Microsoft.Extensions.Configuration;
using Npgsql;

namespace Sync.Connectors;

/// <summary>
/// Resolves the connection names that job files use to data sources, from the configuration
/// section <c>Connections</c> (environment: <c>Connections__NAME</c>). Job files never hold
/// connection strings, so secrets stay in each service's environment.
/// </summary>
public sealed class ConnectionCatalog(IConfiguration configuration) : IAsyncDisposable
{
    public const string SectionName = "Connections";

    private readonly ConcurrentDictionary<string, NpgsqlDataSource> _dataSources = new(StringComparer.Ordinal);

    public NpgsqlDataSource Get(string name) => _dataSources.GetOrAdd(name, Create);

    /// <summary>The configured connection string, for connections a data source cannot open (logical replication).</summary>
    public string GetConnectionString(string name) =>
        configuration.GetSection(SectionName)[name] is { Length: > 0 } value ? value : throw new UnknownConnectionException(name);

    public bool IsDefined(string name) => !string.IsNullOrWhiteSpace(configuration.GetSection(SectionName)[name]);

    private NpgsqlDataSource Create(string name)
    {
        var connectionString = configuration.GetSection(SectionName)[name];
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new UnknownConnectionException(name);
        }

        var builder = new NpgsqlDataSourceBuilder(connectionString);
        // The Loader keeps one staging table per batch schema on each pooled connection; a reset
        // on return (DISCARD ALL) would drop it and cost a CREATE per batch.
        builder.ConnectionStringBuilder.NoResetOnClose = true;
        builder.ConnectionStringBuilder.ApplicationName ??= "sync";
        return builder.Build();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var dataSource in _dataSources.Values)
        {
            await dataSource.DisposeAsync();
        }
    }
}

/// <summary>A job names a connection that this service's configuration does not define.</summary>
public sealed class UnknownConnectionException(string name)
    : Exception($"Connection \"{name}\" is not configured. Set the environment variable Connections__{name} to its connection string.")
{
    public string ConnectionName { get; } = name;
}
