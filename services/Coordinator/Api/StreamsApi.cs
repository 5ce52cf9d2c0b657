using MassTransit;
using Microsoft.AspNetCore.Http.HttpResults;
using Sync.Contracts;
using Sync.Coordinator.Jobs;
using Sync.Jobs;

namespace Sync.Coordinator.Api;

/// <summary>Discovering the tables of a source schema as a ready job file with <c>streams:</c> (<c>syncctl discover</c>).</summary>
internal static class StreamsApi
{
    public static IEndpointRouteBuilder MapStreamsApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/discover/{connection}", DiscoverAsync);
        return app;
    }

    /// <summary>
    /// The job file (text/yaml) following every table of <paramref name="schema"/> in the source
    /// <paramref name="connection"/>; the Extractor reads the catalog (503 when it does not answer).
    /// </summary>
    private static async Task<Results<ContentHttpResult, ProblemHttpResult>> DiscoverAsync(
        string connection, StageRequests stages, CancellationToken cancellationToken, string schema = "public", string destination = "destination_db", string? name = null)
    {
        if (!SqlIdentifier.IsValid(schema) || !SqlIdentifier.IsValid(connection) || !SqlIdentifier.IsValid(destination))
        {
            return OperationsApi.Problem(StatusCodes.Status400BadRequest, "The connection, destination and schema must be plain names (letters, digits, _ and $).", "Write them as the job file would, e.g. demo_source and public.");
        }

        var jobName = name ?? schema.ToLowerInvariant().Replace('$', '_');
        SourceTablesDiscovered discovered;
        try
        {
            discovered = await stages.GetResponseAsync<DiscoverSourceTables, SourceTablesDiscovered>(new DiscoverSourceTables(string.Empty, connection, [schema]), cancellationToken);
        }
        catch (Exception e) when (e is RequestTimeoutException or RequestFaultException)
        {
            return OperationsApi.Problem(StatusCodes.Status503ServiceUnavailable, $"The Extractor, which reads the source catalog, did not answer ({e.Message}).", "Start the Extractor, then discover again.");
        }

        if (discovered.Problem is { } problem)
        {
            return OperationsApi.Problem(StatusCodes.Status422UnprocessableEntity, problem, $"Define Connections__{connection} for the Extractor, or name a connection it has.");
        }

        return TypedResults.Text(StreamsDiscovery.Render(jobName, connection, destination, schema, discovered.Tables), "text/yaml");
    }
}
