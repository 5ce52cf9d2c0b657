using Sync.Contracts.Jobs;

namespace Sync.Jobs;

/// <summary>
/// The optional <c>retry:</c> section: <c>redelivery: [5s, 30s, 2m, 10m]</c>, the waits before each
/// redelivery of a message of this job that failed its quick in-process retries. Absent means the
/// service-wide default (<c>Redelivery__Intervals</c>); <c>redelivery: []</c> means none.
/// </summary>
internal static class RetrySection
{
    public const int MaxRedeliveries = 10;

    public static readonly string[] Keys = ["redelivery"];

    private static readonly TimeSpan MaxInterval = TimeSpan.FromDays(1);

    /// <summary>Null when absent (the default applies) or invalid (reported); check <paramref name="errors"/>.</summary>
    public static RetrySpec? Read(YamlNodeReader job, JobFileErrors errors)
    {
        var retry = job.Mapping("retry", Keys);
        if (retry is null)
        {
            return null;
        }

        if (!retry.Has("redelivery"))
        {
            errors.Add(job.KeyMark("retry"), "retry", "has no redelivery: list", "add redelivery: [5s, 30s, 2m] under retry:, or remove retry: to use the service default");
            return null;
        }

        if (retry.IsEmptyList("redelivery"))
        {
            return new RetrySpec([]);
        }

        var items = retry.ScalarList("redelivery", "5s, 30s, 2m");
        if (items is null)
        {
            return null;
        }

        var valid = true;
        var intervals = new List<TimeSpan>();
        foreach (var item in items)
        {
            if (ParseDuration(item, errors) is { } interval)
            {
                intervals.Add(interval);
            }
            else
            {
                valid = false;
            }
        }

        if (items.Count > MaxRedeliveries)
        {
            errors.Add(
                items[MaxRedeliveries].Mark,
                retry.FieldOf("redelivery"),
                $"lists {items.Count} waits; at most {MaxRedeliveries} are allowed",
                "use fewer, longer waits (e.g. [5s, 30s, 2m, 10m, 1h]); a message still failing after them goes to the error queue");
            valid = false;
        }

        return valid ? new RetrySpec(intervals) : null;
    }

    /// <summary>A <see cref="Duration"/>, positive, at most one day.</summary>
    internal static TimeSpan? ParseDuration(YamlScalar item, JobFileErrors errors)
    {
        if (!Duration.TryParse(item.Value, out var interval))
        {
            errors.Add(item.Mark, item.Field, $"must be a duration like 30s, 2m, 1h or 00:00:30 (got {item.Shown})", Duration.Suggest(item.Value));
            return null;
        }

        if (interval <= TimeSpan.Zero)
        {
            errors.Add(item.Mark, item.Field, $"must be longer than zero (got {item.Shown})", "use at least 1s; remove the entry to redeliver fewer times");
            return null;
        }

        if (interval > MaxInterval)
        {
            errors.Add(item.Mark, item.Field, $"must be at most one day (got {item.Shown})", "use 1d or less; a run that waits longer has timed out anyway");
            return null;
        }

        return interval;
    }
}
