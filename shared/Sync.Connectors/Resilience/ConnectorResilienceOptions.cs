using System.ComponentModel.DataAnnotations;

namespace Sync.Connectors.Resilience;

/// <summary>
/// How the connectors call a source or destination database, section <c>Resilience</c>
/// (environment: <c>Resilience__RetryAttempts</c>, …). One pipeline per connection name: a timeout
/// per attempt, quick retries of transient errors (<see cref="TransientErrors"/>) with jittered
/// exponential backoff, and a circuit breaker so that a dead database is not hammered. Longer
/// outages are the redelivery's business (<c>Redelivery__Intervals</c>, a job's <c>retry:</c>).
/// </summary>
public sealed class ConnectorResilienceOptions : IValidatableObject
{
    public const string SectionName = "Resilience";

    /// <summary>Longest one attempt may take (opening a connection, a whole load transaction), then it is cancelled and counts as a transient failure. Default 00:02:00.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Retries after the first attempt, in process, for transient errors only. Default 3 (4 attempts); 0 turns them off.</summary>
    [Range(0, 10)]
    public int RetryAttempts { get; set; } = 3;

    /// <summary>Median wait before the first retry; later ones grow exponentially, with jitter. Default 00:00:00.200.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:01:00")]
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Cap on any one wait between retries. Default 00:00:05.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:05:00")]
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Share of transient failures among the attempts of <see cref="BreakerSamplingDuration"/> that opens the circuit. Default 0.5.</summary>
    [Range(0.01, 1.0)]
    public double BreakerFailureRatio { get; set; } = 0.5;

    /// <summary>Attempts within <see cref="BreakerSamplingDuration"/> before the ratio counts at all. Default 10.</summary>
    [Range(2, 10_000)]
    public int BreakerMinimumThroughput { get; set; } = 10;

    /// <summary>Window over which the failure ratio is measured. Default 00:00:30 (Polly's minimum is 0.5 s).</summary>
    [Range(typeof(TimeSpan), "00:00:00.500", "1.00:00:00")]
    public TimeSpan BreakerSamplingDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long an open circuit refuses calls before one trial call may pass. Default 00:00:15 (Polly's minimum is 0.5 s).</summary>
    [Range(typeof(TimeSpan), "00:00:00.500", "01:00:00")]
    public TimeSpan BreakDuration { get; set; } = TimeSpan.FromSeconds(15);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (RetryMaxDelay < RetryDelay)
        {
            yield return new ValidationResult(
                $"Resilience:RetryMaxDelay ({RetryMaxDelay}) is shorter than Resilience:RetryDelay ({RetryDelay}); make it at least as long.",
                [nameof(RetryMaxDelay)]);
        }
    }
}
