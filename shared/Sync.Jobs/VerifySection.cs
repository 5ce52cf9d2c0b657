using Sync.Contracts.Jobs;

namespace Sync.Jobs;

/// <summary>
/// The optional <c>verify:</c> section (issue 15): <c>after_run: true</c> verifies the job after each
/// completed run, <c>schedule: "0 3 * * *"</c> on a cron, and <c>ignore: [synced_at]</c> leaves
/// destination columns out of every comparison of the job (manual ones included). Absent, the job is
/// verified only on request, every written column compared.
/// </summary>
internal static class VerifySection
{
    public static readonly string[] Keys = ["after_run", "schedule", "ignore"];

    private static readonly IReadOnlyDictionary<string, bool> Booleans = new Dictionary<string, bool>(StringComparer.Ordinal)
    {
        ["true"] = true,
        ["false"] = false,
    };

    /// <summary>
    /// The section checked against the job it belongs to; <see cref="VerifySpec.OnRequest"/> when
    /// absent, null when invalid (reported).
    /// </summary>
    /// <param name="written">The destination columns the job writes (its <c>columns:</c> targets); empty when it maps by name.</param>
    public static VerifySpec? Read(YamlNodeReader job, JobFileErrors errors, SyncMode mode, IReadOnlyList<string> key, IReadOnlyList<string> written, DestinationKind? destination = null)
    {
        var verify = job.Mapping("verify", Keys);
        if (verify is null)
        {
            return VerifySpec.OnRequest;
        }

        var valid = true;
        var afterRun = false;
        if (verify.Scalar("after_run", "true") is { } a)
        {
            valid &= FieldRules.Choice(a, errors, Booleans, out afterRun);
            if (afterRun && mode == SyncMode.Cdc)
            {
                // A continuous job completes a run every Cdc:RunDuration; and a stream is compared as it moves.
                errors.Add(a.Mark, a.Field, "a cdc job completes a run every few seconds while it streams, so it is verified on a schedule, not after each run", "use verify: { schedule: \"0 3 * * *\" } instead of after_run");
                valid = false;
            }

            if (afterRun && destination == DestinationKind.S3)
            {
                // The Loader writes the manifest on the run's completion, in parallel with the verification it would start.
                errors.Add(a.Mark, a.Field, "an s3 run's manifest is written after the run completes, so a verification right after it could find none yet", "use verify: { schedule: \"0 3 * * *\" } instead of after_run");
                valid = false;
            }
        }

        string? schedule = null;
        if (verify.Scalar("schedule", "\"0 3 * * *\"") is { } s)
        {
            if (CronSchedule.TryParse(s.Value, out var error))
            {
                schedule = s.Value.Trim();
            }
            else
            {
                errors.Add(s.Mark, s.Field, $"must be a cron schedule like \"0 3 * * *\" (got {s.Shown}): {error}", ScheduleHint.For(s.Value));
                valid = false;
            }
        }

        var ignore = new List<string>();
        foreach (var column in verify.ScalarList("ignore", "synced_at") ?? [])
        {
            if (key.Contains(column.Value, StringComparer.Ordinal))
            {
                errors.Add(column.Mark, column.Field, $"\"{column.Value}\" is a column of destination.key: rows are matched by it, so it cannot be left out", "remove it from verify.ignore");
                valid = false;
            }
            else if (written.Count > 0 && !written.Contains(column.Value, StringComparer.Ordinal))
            {
                var closest = Suggestions.Closest(column.Value, written);
                errors.Add(column.Mark, column.Field, $"\"{column.Value}\" is not a column the job writes (columns:), so it is never compared", closest is null ? "remove it from verify.ignore" : $"use {closest}");
                valid = false;
            }
            else
            {
                ignore.Add(column.Value);
            }
        }

        return valid ? new VerifySpec(afterRun, schedule, ignore) : null;
    }
}
