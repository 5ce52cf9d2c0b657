using System.CommandLine;
using System.Text.Json;

namespace Sync.Cli;

/// <summary>
/// <c>syncctl verify JOB [--repair]</c>: compare a job's destination with its source (issue 15). Exit 0
/// equal, 1 different, 2 could not verify. With --repair, a job found different gets a repair run,
/// which is followed to its end, and is verified again; the exit code is the second verification's.
/// </summary>
internal static class VerifyCommand
{
    /// <summary>A verification hashes every row on both sides; the API answers when it is done.</summary>
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(31);

    public static Command Build(Func<ParseResult, CoordinatorClient> client, Option<bool> json)
    {
        var job = new Argument<string>("job") { Description = "Job name" };
        var repair = new Option<bool>("--repair") { Description = "Re-sync the differing keys through a repair run, then verify again" };
        var command = new Command("verify", "Compare a job's destination with its source; exit 0 equal, 1 different, 2 could not verify") { job, repair };
        command.SetAction(async (result, cancellationToken) =>
        {
            using var coordinator = client(result);
            coordinator.Timeout = Timeout;
            var path = $"/api/jobs/{Uri.EscapeDataString(result.GetValue(job)!)}/verify";
            var verification = await coordinator.PostAsync(result.GetValue(repair) ? path + "?repair=true" : path, cancellationToken);
            Print(verification, result.GetValue(json));
            var repairRuns = Verifications(verification).Select(v => SyncCommands.Text(v, "repairRunId")).OfType<string>().ToList();
            if (repairRuns.Count == 0)
            {
                return ExitCode(verification);
            }

            foreach (var repairRun in repairRuns)
            {
                var run = await RunFollower.FollowAsync(coordinator, Guid.Parse(repairRun), live: false, cancellationToken);
                if (!result.GetValue(json))
                {
                    SyncCommands.PrintRun(run);
                }
            }

            var again = await coordinator.PostAsync(path, cancellationToken);
            Print(again, result.GetValue(json));
            return ExitCode(again);
        });
        return command;
    }

    internal static int ExitCode(JsonElement verification) =>
        verification.TryGetProperty("exitCode", out var code) && code.ValueKind == JsonValueKind.Number ? code.GetInt32() : 2;

    /// <summary>A job's verification, or each stream's of a streams job (issue 18).</summary>
    private static IEnumerable<JsonElement> Verifications(JsonElement verification) =>
        verification.TryGetProperty("streams", out var streams) && streams.ValueKind == JsonValueKind.Array ? streams.EnumerateArray() : [verification];

    /// <summary>The human form: the outcome with the counts, then one line per listed key; of a streams job, each stream's, then the whole job's outcome.</summary>
    internal static IEnumerable<string> Lines(JsonElement verification)
    {
        if (verification.TryGetProperty("streams", out var streams) && streams.ValueKind == JsonValueKind.Array)
        {
            foreach (var line in streams.EnumerateArray().SelectMany(JobLines))
            {
                yield return line;
            }

            yield return $"{SyncCommands.Text(verification, "jobName")}: {SyncCommands.Text(verification, "outcome")?.ToLowerInvariant()} ({streams.GetArrayLength()} streams)";
            yield break;
        }

        foreach (var line in JobLines(verification))
        {
            yield return line;
        }
    }

    private static IEnumerable<string> JobLines(JsonElement verification)
    {
        var job = SyncCommands.Text(verification, "jobName");
        var outcome = SyncCommands.Text(verification, "outcome");
        if (outcome == "Unverifiable")
        {
            yield return $"{job}: {SyncCommands.Text(verification, "reason")}";
            yield break;
        }

        var upTo = SyncCommands.Text(verification, "watermark") is { } watermark ? $" up to {watermark}" : string.Empty;
        yield return $"{job}: {outcome?.ToLowerInvariant()}{upTo}  source {SyncCommands.Text(verification, "sourceRows")}  destination {SyncCommands.Text(verification, "destinationRows")}  "
            + $"missing {SyncCommands.Text(verification, "missing")}  extra {SyncCommands.Text(verification, "extra")}  different {SyncCommands.Text(verification, "different")}  "
            + $"duplicated {SyncCommands.Text(verification, "duplicated")}  ({SyncCommands.Text(verification, "durationMs")} ms)";
        foreach (var mismatch in verification.GetProperty("mismatches").EnumerateArray())
        {
            var key = string.Join(", ", mismatch.GetProperty("key").EnumerateArray().Select(v => v.ValueKind == JsonValueKind.Null ? "null" : v.GetString()));
            var columns = mismatch.TryGetProperty("columns", out var list) && list.ValueKind == JsonValueKind.Array
                ? "  columns " + string.Join(", ", list.EnumerateArray().Select(c => c.GetString()))
                : string.Empty;
            yield return $"  {SyncCommands.Text(mismatch, "kind"),-10} ({key}){columns}";
        }

        if (SyncCommands.Text(verification, "repairRunId") is { } run)
        {
            yield return $"repair run {run}";
        }

        if (SyncCommands.Text(verification, "repairNote") is { } note)
        {
            yield return $"  not repaired: {note}";
        }
    }

    private static void Print(JsonElement verification, bool json)
    {
        if (json)
        {
            Console.WriteLine(verification.GetRawText());
            return;
        }

        foreach (var line in Lines(verification))
        {
            Console.WriteLine(line);
        }
    }
}
