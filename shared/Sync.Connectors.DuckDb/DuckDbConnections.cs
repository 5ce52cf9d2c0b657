using System.Collections.Concurrent;
using DuckDB.NET.Data;
using Microsoft.Extensions.Configuration;

namespace Sync.Connectors.DuckDb;

/// <summary>
/// Resolves DuckDB connection names to database files from the configuration section
/// <c>DuckDbConnections</c> (<c>DuckDbConnections__NAME=/path/to/file.duckdb</c>). One open connection per
/// file, used by one load at a time: DuckDB lets a single process write a file, and serializing this
/// process's loads keeps their transactions from conflicting.
/// </summary>
public sealed class DuckDbConnections(IConfiguration configuration) : IAsyncDisposable
{
    public const string SectionName = "DuckDbConnections";

    private readonly ConcurrentDictionary<string, DuckDbFile> _files = new(StringComparer.Ordinal);

    public bool IsDefined(string name) => !string.IsNullOrWhiteSpace(configuration.GetSection(SectionName)[name]);

    /// <summary>Waits for the file's connection and holds it until the lease is disposed.</summary>
    public async Task<DuckDbLease> AcquireAsync(string name, CancellationToken cancellationToken)
    {
        var file = _files.GetOrAdd(name, n => new DuckDbFile(PathOf(n)));
        await file.Gate.WaitAsync(cancellationToken);
        try
        {
            if (file.Connection is null)
            {
                var directory = Path.GetDirectoryName(Path.GetFullPath(file.Path));
                if (directory is not null)
                {
                    Directory.CreateDirectory(directory);
                }

                var connection = new DuckDBConnection($"Data Source={file.Path}");
                await connection.OpenAsync(cancellationToken);
                file.Connection = connection;
            }

            return new DuckDbLease(file);
        }
        catch
        {
            file.Gate.Release();
            throw;
        }
    }

    private string PathOf(string name)
    {
        var path = configuration.GetSection(SectionName)[name];
        return string.IsNullOrWhiteSpace(path)
            ? throw new DuckDbConnectionException($"DuckDB connection \"{name}\" is not configured. Set the environment variable {SectionName}__{name} to the database file's path.")
            : path;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var file in _files.Values)
        {
            if (file.Connection is { } connection)
            {
                await connection.DisposeAsync();
            }
        }
    }
}

internal sealed class DuckDbFile(string path)
{
    public string Path { get; } = path;

    public SemaphoreSlim Gate { get; } = new(1, 1);

    public DuckDBConnection? Connection { get; set; }
}

/// <summary>The connection to one DuckDB file, held exclusively until disposed.</summary>
public sealed class DuckDbLease : IDisposable
{
    private readonly DuckDbFile _file;

    internal DuckDbLease(DuckDbFile file) => _file = file;

    public DuckDBConnection Connection => _file.Connection!;

    /// <summary>Drops the connection (after a failure that may have left it unusable); the next lease opens a new one.</summary>
    public void Reset()
    {
        _file.Connection?.Dispose();
        _file.Connection = null;
    }

    public void Dispose() => _file.Gate.Release();
}

/// <summary>A job names a DuckDB connection this service's configuration does not define.</summary>
public sealed class DuckDbConnectionException(string message) : Exception(message);
