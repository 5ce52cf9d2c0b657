using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using Polly.CircuitBreaker;
using Polly.Timeout;
using Sync.Connectors.Resilience;

namespace Sync.Connectors.Tests;

/// <summary>The pipeline's decisions, with work that fails on cue (pure logic; the real failures are in PostgresResilienceTests).</summary>
public sealed class ConnectorResilienceTests
{
    [Fact]
    public async Task A_transient_failure_is_retried_until_the_work_succeeds()
    {
        var resilience = Create();
        var attempts = 0;

        var result = await resilience.ExecuteAsync("db", _ => ++attempts < 3 ? throw Postgres(PostgresErrorCodes.SerializationFailure) : ValueTask.FromResult(42), CancellationToken.None);

        Assert.Equal((42, 3), (result, attempts));
    }

    [Theory]
    [InlineData(PostgresErrorCodes.UniqueViolation)]
    [InlineData(PostgresErrorCodes.InvalidTextRepresentation)]
    [InlineData(PostgresErrorCodes.UndefinedColumn)]
    public async Task A_permanent_error_is_thrown_as_it_is_after_one_attempt(string sqlState)
    {
        var resilience = Create();
        var attempts = 0;

        var thrown = await Assert.ThrowsAsync<PostgresException>(() =>
            resilience.ExecuteAsync<int>("db", _ => { attempts++; throw Postgres(sqlState); }, CancellationToken.None).AsTask());

        Assert.Equal((sqlState, 1), (thrown.SqlState, attempts));
    }

    [Fact]
    public async Task A_connection_reset_that_persists_gives_up_after_the_retries_as_connector_unavailable()
    {
        var resilience = Create(o => o.RetryAttempts = 2);
        var attempts = 0;

        var thrown = await Assert.ThrowsAsync<ConnectorUnavailableException>(() =>
            resilience.ExecuteAsync<int>("db", _ => { attempts++; throw new NpgsqlException("reset", new IOException("Connection reset by peer", new SocketException(104))); }, CancellationToken.None).AsTask());

        Assert.Equal(3, attempts);
        Assert.Equal("db", thrown.ConnectionName);
        // Redelivered later, but not retried in process a second time.
        Assert.True(TransientErrors.IsTransient(thrown));
        Assert.False(TransientErrors.IsWorthRetryingInProcess(thrown));
    }

    [Fact]
    public async Task An_attempt_that_outlives_its_timeout_is_cancelled_and_retried()
    {
        var resilience = Create(o => o.AttemptTimeout = TimeSpan.FromSeconds(1));
        var attempts = 0;

        var result = await resilience.ExecuteAsync("db", async ct =>
        {
            if (++attempts == 1)
            {
                await Task.Delay(TimeSpan.FromSeconds(30), ct);
            }

            return attempts;
        }, CancellationToken.None);

        Assert.Equal(2, result);
    }

    [Fact]
    public async Task The_callers_cancellation_is_not_retried()
    {
        var resilience = Create();
        using var cancellation = new CancellationTokenSource();
        var attempts = 0;

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => resilience.ExecuteAsync<int>("db", async ct =>
        {
            attempts++;
            await cancellation.CancelAsync();
            ct.ThrowIfCancellationRequested();
            return 0;
        }, cancellation.Token).AsTask());

        Assert.Equal(1, attempts);
    }

    [Fact]
    public async Task A_dead_database_opens_the_circuit_and_later_calls_are_refused_without_touching_it()
    {
        var resilience = Create(o => (o.RetryAttempts, o.BreakerMinimumThroughput, o.BreakerFailureRatio, o.BreakDuration) = (0, 4, 0.5, TimeSpan.FromSeconds(30)));
        var attempts = 0;
        ValueTask<int> Dead(CancellationToken _)
        {
            attempts++;
            throw Postgres(PostgresErrorCodes.CannotConnectNow);
        }

        for (var i = 0; i < 4; i++)
        {
            await Assert.ThrowsAsync<ConnectorUnavailableException>(() => resilience.ExecuteAsync("dest", Dead, CancellationToken.None).AsTask());
        }

        var refused = await Assert.ThrowsAsync<ConnectorUnavailableException>(() => resilience.ExecuteAsync("dest", Dead, CancellationToken.None).AsTask());

        Assert.IsType<BrokenCircuitException>(refused.InnerException);
        Assert.Equal(4, attempts);
        // Another connection has its own circuit.
        Assert.Equal(1, await resilience.ExecuteAsync("source", _ => ValueTask.FromResult(1), CancellationToken.None));
    }

    [Fact]
    public async Task Permanent_errors_do_not_open_the_circuit()
    {
        var resilience = Create(o => (o.BreakerMinimumThroughput, o.BreakerFailureRatio) = (2, 0.1));
        for (var i = 0; i < 10; i++)
        {
            await Assert.ThrowsAsync<PostgresException>(() =>
                resilience.ExecuteAsync<int>("dest", _ => throw Postgres(PostgresErrorCodes.UniqueViolation), CancellationToken.None).AsTask());
        }

        Assert.Equal(7, await resilience.ExecuteAsync("dest", _ => ValueTask.FromResult(7), CancellationToken.None));
    }

    [Fact]
    public void Pipeline_rejections_are_transient()
    {
        Assert.True(TransientErrors.IsTransient(new TimeoutRejectedException()));
        Assert.True(TransientErrors.IsTransient(new BrokenCircuitException()));
    }

    [Fact]
    public void Options_refuse_a_max_delay_below_the_first_delay()
    {
        var options = new ConnectorResilienceOptions { RetryDelay = TimeSpan.FromSeconds(10), RetryMaxDelay = TimeSpan.FromSeconds(1) };

        var error = Assert.Single(options.Validate(new System.ComponentModel.DataAnnotations.ValidationContext(options)));

        Assert.Contains("Resilience:RetryMaxDelay", error.ErrorMessage, StringComparison.Ordinal);
    }

    private static ConnectorResilience Create(Action<ConnectorResilienceOptions>? configure = null)
    {
        var options = new ConnectorResilienceOptions { RetryDelay = TimeSpan.FromMilliseconds(1), RetryMaxDelay = TimeSpan.FromMilliseconds(5) };
        configure?.Invoke(options);
        return new ConnectorResilience(Options.Create(options), NullLogger<ConnectorResilience>.Instance);
    }

    private static PostgresException Postgres(string sqlState) => new("message", "ERROR", "ERROR", sqlState);
}
