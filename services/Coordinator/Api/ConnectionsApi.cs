using MassTransit;
using Microsoft.AspNetCore.Http.HttpResults;
using Sync.Contracts;
using Sync.Coordinator.Jobs;

namespace Sync.Coordinator.Api;

/// <summary>
/// POST /api/connections/{name}/check (<c>syncctl check</c>, issue 18 item 4): the Extractor, which
/// holds the connections, opens it and answers ok or the error (its password masked). 404 for a
/// connection the Extractor does not have.
/// </summary>
internal static class ConnectionsApi
{
    public static IEndpointRouteBuilder MapConnectionsApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/connections/{name}/check", CheckAsync);
        return app;
    }

    private static async Task<Results<Ok<ConnectionChecked>, ProblemHttpResult>> CheckAsync(string name, StageRequests stages, CancellationToken cancellationToken)
    {
        ConnectionChecked answer;
        try
        {
            answer = await stages.GetResponseAsync<CheckConnection, ConnectionChecked>(new CheckConnection(name), cancellationToken);
        }
        catch (Exception e) when (e is RequestTimeoutException or RequestFaultException)
        {
            return OperationsApi.Problem(
                StatusCodes.Status503ServiceUnavailable,
                $"The Extractor, which holds the connections, did not answer ({e.Message}).",
                "Start the Extractor, then check again.");
        }

        return answer.Known
            ? TypedResults.Ok(answer)
            : OperationsApi.Problem(StatusCodes.Status404NotFound, answer.Error ?? $"There is no connection \"{name}\".", $"Define Connections__{name} for the Extractor, or check a connection it has.");
    }
}
