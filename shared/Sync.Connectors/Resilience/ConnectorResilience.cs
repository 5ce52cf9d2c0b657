using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;

namespace Sync.Connectors.Resilience;

/// <summary>
/// One Polly pipeline per connection name, from the outside in: retry (transient errors only,
/// jittered exponential backoff), circuit breaker (counts transient failures and timeouts, so a
/// dead database is refused fast instead of hammered), timeout per attempt. A unit of work passed
/// to <see cref="ExecuteAsync{T}"/> must be whole — it opens its own connection and, for a write,
/// its own transaction — because a retry runs it again from the start, never from the middle.
/// </summary>
/// <remarks>
/// Layering: this is the only in-process retry of database calls. A failure it gives up on leaves
/// as <see cref="ConnectorUnavailableException"/>, which MassTransit's message retry skips
/// (<see cref="TransientErrors.IsWorthRetryingInProcess"/>) and the delayed redelivery takes.
/// </remarks>
public sealed partial class ConnectorResilience(IOptions<ConnectorResilienceOptions> options, ILogger<ConnectorResilience> logger)
{
    private readonly ConcurrentDictionary<string, ResiliencePipeline> _pipelines = new(StringComparer.Ordinal);

    /// <summary>Runs <paramref name="work"/> through the pipeline of <paramref name="connection"/>.</summary>
    /// <exception cref="ConnectorUnavailableException">Still transient after the retries, or the circuit is open.</exception>
    public async ValueTask<T> ExecuteAsync<T>(string connection, Func<CancellationToken, ValueTask<T>> work, CancellationToken cancellationToken)
    {
        var pipeline = _pipelines.GetOrAdd(connection, Create);
        try
        {
            return await pipeline.ExecuteAsync(work, cancellationToken);
        }
        catch (Exception exception) when (exception is not OperationCanceledException && TransientErrors.IsTransient(exception))
        {
            throw new ConnectorUnavailableException(connection, exception);
        }
    }

    private ResiliencePipeline Create(string connection)
    {
        var settings = options.Value;
        var builder = new ResiliencePipelineBuilder { Name = $"sync-connection-{connection}" };
        if (settings.RetryAttempts > 0)
        {
            builder.AddRetry(new RetryStrategyOptions
            {
                // An open circuit is not worth a retry a few hundred milliseconds later.
                ShouldHandle = new PredicateBuilder().Handle<Exception>(e => e is not BrokenCircuitException && IsFailure(e)),
                MaxRetryAttempts = settings.RetryAttempts,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = settings.RetryDelay,
                MaxDelay = settings.RetryMaxDelay,
                OnRetry = args =>
                {
                    LogRetrying(connection, args.AttemptNumber + 2, args.RetryDelay.TotalMilliseconds, args.Outcome.Exception?.Message);
                    return default;
                },
            });
        }

        return builder
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                // A unique violation or a type error says the database is healthy: it does not count.
                ShouldHandle = new PredicateBuilder().Handle<Exception>(IsFailure),
                FailureRatio = settings.BreakerFailureRatio,
                MinimumThroughput = settings.BreakerMinimumThroughput,
                SamplingDuration = settings.BreakerSamplingDuration,
                BreakDuration = settings.BreakDuration,
                OnOpened = args =>
                {
                    LogCircuitOpened(connection, args.BreakDuration.TotalSeconds, args.Outcome.Exception?.Message);
                    return default;
                },
                OnClosed = _ =>
                {
                    LogCircuitClosed(connection);
                    return default;
                },
            })
            .AddTimeout(settings.AttemptTimeout)
            .Build();
    }

    private static bool IsFailure(Exception exception) =>
        exception is not OperationCanceledException && TransientErrors.IsTransient(exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Connection {Connection}: attempt {Attempt} in {DelayMs} ms after a transient error: {Reason}")]
    private partial void LogRetrying(string connection, int attempt, double delayMs, string? reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Connection {Connection}: circuit opened for {Seconds} s after repeated transient errors; calls are refused meanwhile. Last: {Reason}")]
    private partial void LogCircuitOpened(string connection, double seconds, string? reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Connection {Connection}: circuit closed, calls pass again")]
    private partial void LogCircuitClosed(string connection);
}
