using System.Net.Sockets;
using Npgsql;
using Polly;
using Sync.Connectors.Resilience;

namespace Sync.Connectors;

/// <summary>
/// Which failures may pass by themselves (worth a retry) and which will not (a retry only delays
/// the error): decided by type and SQLSTATE, never by message text.
/// </summary>
public static class TransientErrors
{
    // Read on every classification, written once per client library: copy on write.
    private static Func<Exception, bool>[] _recognised = [];
    private static readonly Lock RecognisedLock = new();

    /// <summary>
    /// Adds the transient errors of a client library that only some connector kinds use, so that the
    /// core carries no such library; called where that library's clients are made, before any can fail.
    /// </summary>
    public static void Recognise(Func<Exception, bool> isTransient)
    {
        lock (RecognisedLock)
        {
            if (!_recognised.Contains(isTransient))
            {
                _recognised = [.. _recognised, isTransient];
            }
        }
    }

    public static bool IsTransient(Exception exception) => exception switch
    {
        PostgresException postgres => postgres.IsTransient || IsTransientState(postgres.SqlState),
        // Connection loss, timeouts and broken streams: Npgsql marks them transient.
        NpgsqlException npgsql => npgsql.IsTransient,
        TimeoutException or SocketException or IOException => true,
        // A client library's own error that may pass, e.g. an S3 answer (Sync.ObjectStorage recognises those).
        _ when _recognised.Any(isTransient => isTransient(exception)) => true,
        // The connector pipeline timed an attempt out, or its circuit is open: the database may be back later.
        ExecutionRejectedException => true,
        AggregateException aggregate => aggregate.InnerExceptions.All(IsTransient),
        _ when exception.InnerException is { } inner => IsTransient(inner),
        _ => false,
    };

    /// <summary>
    /// Whether a stage's quick in-process retry (MassTransit's UseMessageRetry) should run the
    /// message again: transient, and not already retried by the connector's own pipeline (which
    /// gave up with <see cref="ConnectorUnavailableException"/>). Delayed redelivery still takes
    /// those, through <see cref="IsTransient"/>.
    /// </summary>
    public static bool IsWorthRetryingInProcess(Exception exception) =>
        exception is not ConnectorUnavailableException && IsTransient(exception);

    // Concurrency and availability conditions that another attempt can get past; data errors
    // (class 22), constraint violations (23) and schema errors (42) are permanent.
    private static bool IsTransientState(string state) =>
        state is PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected
            or PostgresErrorCodes.LockNotAvailable or PostgresErrorCodes.QueryCanceled
            or PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown or PostgresErrorCodes.CannotConnectNow
        || state.StartsWith("08", StringComparison.Ordinal)
        || state.StartsWith("53", StringComparison.Ordinal);
}
