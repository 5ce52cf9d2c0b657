using System.CommandLine;
using System.Text.Json;

namespace Sync.Cli;

/// <summary>The operator's commands: run show, dead-letters, pause, resume, reset, drop-slot.</summary>
internal static class OperatorCommands
{
    public static Command ShowRun(Func<ParseResult, CoordinatorClient> client, Option<bool> json)
    {
        var id = new Argument<Guid>("id") { Description = "Run id" };
        var command = new Command("show", "One run with its metrics: batches, rows, rows/s") { id };
        command.SetAction(async (result, cancellationToken) =>
        {
            using var coordinator = client(result);
            var metrics = await coordinator.GetAsync($"/api/runs/{result.GetValue(id)}/metrics", cancellationToken);
            if (result.GetValue(json))
            {
                Console.WriteLine(metrics.GetRawText());
                return 0;
            }

            SyncCommands.PrintRun(metrics.GetProperty("run"), withJob: true);
            Console.WriteLine($"  batches {metrics.GetProperty("batches").GetInt32()}  rows {metrics.GetProperty("batchRows").GetInt64()}  {metrics.GetProperty("rowsPerSecond").GetDouble():0} rows/s");
            foreach (var batch in metrics.GetProperty("batchDetails").EnumerateArray())
            {
                Console.WriteLine($"  batch {batch.GetProperty("batchSeq").GetInt32(),5}  rows {batch.GetProperty("rows").GetInt32(),7}  inserted {batch.GetProperty("inserted").GetInt32()}  updated {batch.GetProperty("updated").GetInt32()}  failed {batch.GetProperty("failed").GetInt32()}"
                    + (SyncCommands.Text(batch, "stream") is { } stream ? $"  stream {stream}" : string.Empty));
            }

            return 0;
        });
        return command;
    }

    public static Command DeadLetters(Func<ParseResult, CoordinatorClient> client, Option<bool> json)
    {
        var command = new Command("dead-letters", "Records and messages that failed: list, show, replay, discard");

        var job = new Option<string?>("--job") { Description = "Only this job's" };
        var stream = new Option<string?>("--stream") { Description = "Only this stream's (JOB.STREAM) of a streams job" };
        var status = new Option<string?>("--status") { Description = "pending, replayed or resolved" };
        var limit = new Option<int>("--limit") { DefaultValueFactory = _ => 100, Description = "At most this many" };
        var list = new Command("list", "List dead letters") { job, stream, status, limit };
        list.SetAction(async (result, cancellationToken) =>
        {
            using var coordinator = client(result);
            var query = $"?limit={result.GetValue(limit)}"
                + (result.GetValue(job) is { } j ? $"&job={Uri.EscapeDataString(j)}" : string.Empty)
                + (result.GetValue(stream) is { } st ? $"&stream={Uri.EscapeDataString(st)}" : string.Empty)
                + (result.GetValue(status) is { } s ? $"&status={Uri.EscapeDataString(s)}" : string.Empty);
            var letters = await coordinator.GetAsync($"/api/dead-letters{query}", cancellationToken);
            if (result.GetValue(json))
            {
                Console.WriteLine(letters.GetRawText());
                return 0;
            }

            Console.WriteLine($"{"ID",-8} {"KIND",-8} {"JOB",-24} {"STREAM",-24} {"STATUS",-10} {"STAGE",-10} ERROR");
            foreach (var letter in letters.EnumerateArray())
            {
                Console.WriteLine($"{letter.GetProperty("id").GetInt64(),-8} {SyncCommands.Text(letter, "kind"),-8} {SyncCommands.Text(letter, "jobName"),-24} {SyncCommands.Text(letter, "stream"),-24} {SyncCommands.Text(letter, "status"),-10} {SyncCommands.Text(letter, "stage"),-10} {SyncCommands.Text(letter, "error")}");
            }

            return 0;
        });
        command.Subcommands.Add(list);

        var id = new Argument<long>("id") { Description = "Dead letter id" };
        var show = new Command("show", "One dead letter with its record") { id };
        show.SetAction(async (result, cancellationToken) =>
        {
            using var coordinator = client(result);
            var letter = await coordinator.GetAsync($"/api/dead-letters/{result.GetValue(id)}", cancellationToken);
            Console.WriteLine(result.GetValue(json)
                ? letter.GetRawText()
                : JsonSerializer.Serialize(letter, new JsonSerializerOptions { WriteIndented = true }));
            return 0;
        });
        command.Subcommands.Add(show);

        var replayJob = new Argument<string>("job") { Description = "Job whose pending record dead letters to replay" };
        var ids = new Option<long[]>("--id") { Description = "Only these dead letters", AllowMultipleArgumentsPerToken = true };
        var replayStream = new Option<string?>("--stream") { Description = "Only this stream's (JOB.STREAM, or STREAM) of a streams job" };
        var replay = new Command("replay", "Replay a job's pending record dead letters through a replay run") { replayJob, ids, replayStream };
        replay.SetAction(async (result, cancellationToken) =>
        {
            var jobName = result.GetValue(replayJob)!;
            if (ReplayTarget(jobName, result.GetValue(replayStream)) is not { } name)
            {
                Console.Error.WriteLine($"--stream {result.GetValue(replayStream)} is not a stream of job {jobName}: its streams are named {jobName}.STREAM.");
                return 2;
            }

            using var coordinator = client(result);
            var wanted = result.GetValue(ids) is { Length: > 0 } some ? JsonSerializer.Serialize(new { ids = some }) : null;
            var started = await coordinator.PostAsync($"/api/jobs/{Uri.EscapeDataString(name)}/dead-letters/replay", cancellationToken, wanted);
            if (result.GetValue(json))
            {
                Console.WriteLine(started.GetRawText());
                return 0;
            }

            // A streams job by cursor replays each stream in a run of its own, named on its line.
            var runs = started.TryGetProperty("runs", out var streamRuns) ? [.. streamRuns.EnumerateArray()] : new List<JsonElement> { started };
            var lines = runs.Where(r => SyncCommands.Text(r, "runId") is not null)
                .Select(r => $"replay run {SyncCommands.Text(r, "runId")}{(streamRuns.ValueKind == JsonValueKind.Array ? $"  {SyncCommands.Text(r, "jobName")}" : string.Empty)}: {r.GetProperty("deadLetters").GetInt32()} dead letter(s)")
                .ToList();
            Console.WriteLine(lines.Count > 0 ? string.Join(Environment.NewLine, lines) : "nothing pending to replay");
            if (started.TryGetProperty("stillActive", out var stillActive))
            {
                foreach (var active in stillActive.EnumerateArray())
                {
                    Console.Error.WriteLine($"{active.GetString()}: a run is still active, not replayed");
                }
            }

            return 0;
        });
        command.Subcommands.Add(replay);

        var discardId = new Argument<long>("id") { Description = "Dead letter id" };
        var discard = new Command("discard", "Discard a pending record dead letter: it is kept, marked discarded, and never replayed") { discardId };
        discard.SetAction(async (result, cancellationToken) =>
        {
            using var coordinator = client(result);
            var id = result.GetValue(discardId);
            var answer = await coordinator.PostAsync($"/api/dead-letters/{id}/discard", cancellationToken);
            Console.WriteLine(result.GetValue(json) ? answer.GetRawText() : $"dead letter {id}: discarded");
            return 0;
        });
        command.Subcommands.Add(discard);
        return command;
    }

    /// <summary>
    /// What <c>dead-letters replay JOB [--stream S]</c> replays: the job, or one stream by its name
    /// JOB.STREAM (issue 18; S alone is taken as the job's); null when S names another job's stream.
    /// </summary>
    internal static string? ReplayTarget(string job, string? stream) =>
        stream is null ? job
        : !stream.Contains('.', StringComparison.Ordinal) ? $"{job}.{stream}"
        : stream.StartsWith(job + ".", StringComparison.Ordinal) ? stream
        : null;

    public static Command Pause(Func<ParseResult, CoordinatorClient> client, Option<bool> json, bool pause)
    {
        var job = new Argument<string>("job") { Description = "Job name" };
        var command = pause
            ? new Command("pause", "Pause a job's schedule: scheduled runs are skipped until resume") { job }
            : new Command("resume", "Resume a paused job's schedule") { job };
        command.SetAction(async (result, cancellationToken) =>
        {
            using var coordinator = client(result);
            var name = result.GetValue(job)!;
            var answer = await coordinator.PostAsync($"/api/jobs/{Uri.EscapeDataString(name)}/{(pause ? "pause" : "resume")}", cancellationToken);
            Console.WriteLine(result.GetValue(json) ? answer.GetRawText() : $"{name}: schedule {(pause ? "paused" : "resumed")}");
            return 0;
        });
        return command;
    }

    public static Command Reset(Func<ParseResult, CoordinatorClient> client, Option<bool> json)
    {
        var job = new Argument<string>("job") { Description = "Job name" };
        var yes = new Option<bool>("--yes", "-y") { Description = "Do not ask for confirmation" };
        var command = new Command("reset", "Forget a job's watermark: its next run extracts everything again") { job, yes };
        command.SetAction(async (result, cancellationToken) =>
        {
            var name = result.GetValue(job)!;
            if (!result.GetValue(yes) && !Confirm($"Reset the watermark of {name}? Its next run reads the whole source again. [y/N] "))
            {
                Console.Error.WriteLine("Not reset. Pass --yes to skip this question.");
                return 1;
            }

            using var coordinator = client(result);
            var answer = await coordinator.DeleteAsync($"/api/jobs/{Uri.EscapeDataString(name)}/watermark", cancellationToken);
            Console.WriteLine(result.GetValue(json)
                ? answer.GetRawText()
                : $"{name}: watermark reset (was {SyncCommands.Text(answer, "previousWatermark") ?? "none"})");
            return 0;
        });
        return command;
    }

    /// <summary>POST /api/runs/{id}/cancel: end an active run Failed, its watermark unchanged.</summary>
    public static Command Cancel(Func<ParseResult, CoordinatorClient> client, Option<bool> json)
    {
        var run = new Argument<Guid>("run") { Description = "The run id (syncctl runs JOB lists them)" };
        var reason = new Option<string?>("--reason") { Description = "Why, kept as the run's failure reason" };
        var command = new Command("cancel", "Cancel an active run: it ends Failed and the job's watermark stays where it was") { run, reason };
        command.SetAction(async (result, cancellationToken) =>
        {
            var id = result.GetValue(run);
            var because = result.GetValue(reason);
            using var coordinator = client(result);
            var query = string.IsNullOrWhiteSpace(because) ? string.Empty : $"?reason={Uri.EscapeDataString(because)}";
            var answer = await coordinator.PostAsync($"/api/runs/{id}/cancel{query}", cancellationToken);
            Console.WriteLine(result.GetValue(json)
                ? answer.GetRawText()
                : $"{SyncCommands.Text(answer, "jobName")}: run {id} is being cancelled");
            return 0;
        });
        return command;
    }

    /// <summary>DELETE /api/jobs/{name}/cdc: drop now the recorded replication slot, publication and watermark of a removed cdc job.</summary>
    public static Command DropSlot(Func<ParseResult, CoordinatorClient> client, Option<bool> json)
    {
        var job = new Argument<string>("job") { Description = "A cdc job whose file was removed" };
        var yes = new Option<bool>("--yes", "-y") { Description = "Do not ask for confirmation" };
        var command = new Command("drop-slot", "Drop a removed cdc job's replication slot, publication and watermark now, as the Coordinator's next start would") { job, yes };
        command.SetAction(async (result, cancellationToken) =>
        {
            var name = result.GetValue(job)!;
            if (!result.GetValue(yes) && !Confirm($"Drop the replication slot, publication and watermark of removed job {name}? Added again, it copies its table afresh. [y/N] "))
            {
                Console.Error.WriteLine("Not dropped. Pass --yes to skip this question.");
                return 1;
            }

            using var coordinator = client(result);
            var outcomes = await coordinator.DeleteAsync($"/api/jobs/{Uri.EscapeDataString(name)}/cdc", cancellationToken);
            if (result.GetValue(json))
            {
                Console.WriteLine(outcomes.GetRawText());
                return 0;
            }

            var lines = SlotOutcomes(outcomes);
            foreach (var line in lines)
            {
                Console.WriteLine(line);
            }

            // A slot kept for the next attempt (connection not configured, source not answering) is not done.
            return outcomes.EnumerateArray().All(o => SyncCommands.Text(o, "fate") == "Dropped") ? 0 : 3;
        });
        return command;
    }

    /// <summary>One line per recorded slot of the answer of DELETE /api/jobs/{name}/cdc.</summary>
    internal static List<string> SlotOutcomes(JsonElement outcomes) =>
        [.. outcomes.EnumerateArray().Select(o =>
            $"{SyncCommands.Text(o, "job")}: slot {SyncCommands.Text(o, "slot")} on connection {SyncCommands.Text(o, "connection")} " +
            (SyncCommands.Text(o, "fate") switch
            {
                "Dropped" => "dropped, with its publication and the job's watermark",
                "Kept" => "kept: " + SyncCommands.Text(o, "reason"),
                var fate => $"{fate?.ToLowerInvariant()}: {SyncCommands.Text(o, "reason")}",
            }))];

    internal static bool Confirm(string question, TextReader? input = null)
    {
        Console.Error.Write(question);
        var answer = (input ?? Console.In).ReadLine();
        return answer is not null && answer.Trim().ToLowerInvariant() is "y" or "yes";
    }
}
