using System.ComponentModel.DataAnnotations;

namespace Sync.Outbox;

/// <summary>
/// The transactional outbox and inbox, section <c>Outbox</c> (environment: <c>Outbox__PollInterval</c>, …).
/// Defaults are MassTransit's own, except where a comment says why not.
/// </summary>
public sealed class OutboxOptions : IValidatableObject
{
    public const string SectionName = "Outbox";

    /// <summary>Messages sent per pass of a consumer's outbox and per round of the delivery service. Default 100.</summary>
    [Range(1, 10_000)]
    public int MessageDeliveryLimit { get; set; } = 100;

    /// <summary>How long one send to the broker may take before delivery stops and is tried again later. Default 5 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan SendTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How often the delivery service looks for work when no commit woke it. Default 5 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "01:00:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Limit on one database round of the delivery and cleanup services. Default 30 s.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan QueryTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// A consumed inbox row still undelivered this long after its commit is delivered by the
    /// delivery service rather than by a redelivery of its message (which may never come: the
    /// message may be in the error queue). Default 1 minute.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan StrandedDeliveryDelay { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How long a delivered inbox row is kept, so a duplicate arriving within it is recognised. Default 30 minutes.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "30.00:00:00")]
    public TimeSpan DuplicateDetectionWindow { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>
    /// How long an inbox row that was never delivered (its message faulted to the error queue) is
    /// kept, counted from <c>received</c>. Longer than the duplicate window so a replay from the
    /// error queue within it still runs once. Default 7 days.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "365.00:00:00")]
    public TimeSpan UndeliveredInboxWindow { get; set; } = TimeSpan.FromDays(7);

    /// <summary>How often the cleanup sweep runs; it runs again at once while it still finds rows. Default 10 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "01:00:00")]
    public TimeSpan CleanupInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Inbox rows deleted per statement of the cleanup sweep. Default 100.</summary>
    [Range(1, 100_000)]
    public int CleanupBatchSize { get; set; } = 100;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (UndeliveredInboxWindow < DuplicateDetectionWindow)
        {
            yield return new ValidationResult(
                $"Outbox:UndeliveredInboxWindow ({UndeliveredInboxWindow}) must be at least Outbox:DuplicateDetectionWindow ({DuplicateDetectionWindow}).",
                [nameof(UndeliveredInboxWindow)]);
        }
    }
}
