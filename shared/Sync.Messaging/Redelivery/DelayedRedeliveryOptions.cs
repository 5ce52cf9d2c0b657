using System.ComponentModel.DataAnnotations;
using System.Globalization;

namespace Sync.Messaging.Redelivery;

/// <summary>
/// How a message that failed its quick in-process retries comes back later, section
/// <c>Redelivery</c>. After the last interval it goes to the endpoint's error queue.
/// </summary>
public sealed class DelayedRedeliveryOptions : IValidatableObject
{
    public const string SectionName = "Redelivery";

    /// <summary>
    /// Comma-separated waits before each redelivery, as TimeSpans. Default "00:00:05,00:00:30,00:02:00,00:10:00"
    /// (5 s, 30 s, 2 min, 10 min). Empty: no redelivery.
    /// </summary>
    public string Intervals { get; set; } = "00:00:05,00:00:30,00:02:00,00:10:00";

    public IReadOnlyList<TimeSpan> ParsedIntervals() =>
        [.. Intervals.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(text => TimeSpan.Parse(text, CultureInfo.InvariantCulture))];

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var text in Intervals.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var interval) || interval <= TimeSpan.Zero || interval > TimeSpan.FromDays(1))
            {
                yield return new ValidationResult(
                    $"Redelivery:Intervals has \"{text}\"; each interval must be a positive TimeSpan up to one day, e.g. 00:00:30.",
                    [nameof(Intervals)]);
            }
        }
    }
}
