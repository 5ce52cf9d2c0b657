using System.CommandLine;
using System.Text.Json;
using Sync.Jobs;

namespace Sync.Cli;

/// <summary>The <c>syncctl</c> command line: validate job files, list jobs, start and follow runs.</summary>
internal static class SyncCommands
{
    private static readonly Option<string> Api = new("--url", "--api")
    {
        Description = "Coordinator API base address (env SYNC_URL; default http://127.0.0.1:5080)",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("SYNC_URL") ?? Environment.GetEnvironmentVariable("SYNC_API") ?? "http://127.0.0.1:5080",
        Recursive = true,
    };

    private static readonly Option<string?> ApiKey = new("--api-key")
    {
        Description = "API key for calls that change something (env SYNC_API_KEY)",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("SYNC_API_KEY"),
        Recursive = true,
    };

    private static readonly Option<bool> Json = new("--json") { Description = "Print JSON for scripts", Recursive = true };

    public static RootCommand Build()
    {
        var root = new RootCommand("syncctl: the command line of Sync, incremental data synchronization jobs") { Api, ApiKey, Json };
        root.Subcommands.Add(Validate());
        root.Subcommands.Add(Jobs());
        root.Subcommands.Add(Run());
        root.Subcommands.Add(Runs());
        root.Subcommands.Add(Discover());
        root.Subcommands.Add(OperatorCommands.DeadLetters(Client, Json));
        root.Subcommands.Add(OperatorCommands.Pause(Client, Json, pause: true));
        root.Subcommands.Add(OperatorCommands.Pause(Client, Json, pause: false));
        root.Subcommands.Add(OperatorCommands.Reset(Client, Json));
        root.Subcommands.Add(WatermarkCommands.Watermark(Client, Json));
        root.Subcommands.Add(WatermarkCommands.Backfill(Client, Json));
        root.Subcommands.Add(OperatorCommands.Cancel(Client, Json));
        root.Subcommands.Add(OperatorCommands.DropSlot(Client, Json));
        root.Subcommands.Add(VerifyCommand.Build(Client, Json));
        root.Subcommands.Add(CheckCommand.Build(Client, Json));
        return root;
    }

    private static Command Validate()
    {
        var paths = new Argument<string[]>("paths") { Description = "Job files or folders", Arity = ArgumentArity.OneOrMore };
        var command = new Command("validate", "Check job files without running them; exit 1 when any is invalid") { paths };
        command.SetAction(result =>
        {
            var errors = new List<JobFileError>();
            var count = 0;
            foreach (var path in result.GetValue(paths)!)
            {
                if (Directory.Exists(path))
                {
                    var directory = JobDirectory.Load(path);
                    count += directory.Jobs.Count + directory.Streams.Count;
                    errors.AddRange(directory.Errors);
                }
                else
                {
                    var file = File.Exists(path) ? JobFile.Parse(File.ReadAllText(path), path) : null;
                    if (file is null)
                    {
                        errors.Add(new JobFileError(path, 0, 0, string.Empty, "no such file or folder", null));
                    }
                    else if (file.HasJob)
                    {
                        count++;
                    }
                    else
                    {
                        errors.AddRange(file.Errors);
                    }
                }
            }

            foreach (var error in errors)
            {
                Console.Error.WriteLine(error);
            }

            Console.WriteLine(errors.Count == 0 ? $"{count} job(s) valid" : $"{errors.Count} problem(s) found");
            return errors.Count == 0 ? 0 : 1;
        });
        return command;
    }

    private static Command Jobs()
    {
        var command = new Command("jobs", "List jobs with their schedule and watermark, and invalid job files with their errors; exit 1 when any file is invalid");
        command.SetAction(async (result, cancellationToken) =>
        {
            using var client = Client(result);
            var jobs = await client.GetAsync("/api/jobs", cancellationToken);
            if (result.GetValue(Json))
            {
                Console.WriteLine(jobs.GetRawText());
            }
            else
            {
                foreach (var line in JobLines(jobs))
                {
                    Console.WriteLine(line);
                }
            }

            // A script that checks a deployment with `syncctl jobs` learns that a job is not running.
            return AnyInvalid(jobs) ? 1 : 0;
        });
        return command;
    }

    private static Command Run()
    {
        var job = new Argument<string>("job") { Description = "Job name" };
        var noWait = new Option<bool>("--no-wait") { Description = "Start the run and print its id without following it (the default)" };
        var follow = new Option<bool>("--follow", "-f") { Description = "Show live progress until the run ends; exit 1 when it fails" };
        var command = new Command("run", "Start a run of a job; with --follow, follow it until it ends") { job, noWait, follow };
        command.Subcommands.Add(OperatorCommands.ShowRun(Client, Json));
        command.SetAction(async (result, cancellationToken) =>
        {
            using var client = Client(result);
            var started = await client.PostAsync($"/api/jobs/{Uri.EscapeDataString(result.GetValue(job)!)}/runs", cancellationToken);
            var json = result.GetValue(Json);
            if (started.TryGetProperty("runs", out var streamRuns))
            {
                return await StreamRunsAsync(client, started, streamRuns, json, result.GetValue(follow), cancellationToken);
            }

            var runId = started.GetProperty("runId").GetGuid();
            if (result.GetValue(noWait) || !result.GetValue(follow))
            {
                Console.WriteLine(json ? started.GetRawText() : runId.ToString());
                return 0;
            }

            var run = await RunFollower.FollowAsync(client, runId, live: !json && !Console.IsOutputRedirected, cancellationToken);

            if (json)
            {
                Console.WriteLine(run.GetRawText());
            }
            else
            {
                PrintRun(run);
            }

            return run.GetProperty("state").GetString() == "Completed" ? 0 : 1;
        });
        return command;
    }

    // A streams job starts a run per stream: print them (with --follow, follow each to its end; exit 1 when any fails).
    private static async Task<int> StreamRunsAsync(CoordinatorClient client, JsonElement started, JsonElement runs, bool json, bool follow, CancellationToken cancellationToken)
    {
        if (!follow)
        {
            Console.WriteLine(json ? started.GetRawText() : string.Join(Environment.NewLine, runs.EnumerateArray().Select(r => $"{r.GetProperty("runId").GetGuid()}  {r.GetProperty("jobName").GetString()}")));
            foreach (var active in started.GetProperty("stillActive").EnumerateArray())
            {
                Console.Error.WriteLine($"{active.GetString()}: a run is still active, not started");
            }

            return 0;
        }

        var failed = false;
        foreach (var run in runs.EnumerateArray())
        {
            var ended = await RunFollower.FollowAsync(client, run.GetProperty("runId").GetGuid(), live: false, cancellationToken);
            Console.WriteLine(json ? ended.GetRawText() : $"{run.GetProperty("jobName").GetString()}:");
            if (!json)
            {
                PrintRun(ended);
            }

            failed |= ended.GetProperty("state").GetString() != "Completed";
        }

        return failed ? 1 : 0;
    }

    private static Command Discover()
    {
        var connection = new Argument<string>("connection") { Description = "Source connection name (Connections__NAME of the Extractor)" };
        var schema = new Option<string>("--schema") { DefaultValueFactory = _ => "public", Description = "Source schema whose tables become streams" };
        var destination = new Option<string>("--destination") { DefaultValueFactory = _ => "destination_db", Description = "Destination connection name written into the file" };
        var name = new Option<string?>("--name") { Description = "Job name (default: the schema's name)" };
        var command = new Command("discover", "Print a job file with a stream for every table of a source schema (through the Coordinator, which asks the Extractor)") { connection, schema, destination, name };
        command.SetAction(async (result, cancellationToken) =>
        {
            using var client = Client(result);
            var query = $"?schema={Uri.EscapeDataString(result.GetValue(schema)!)}&destination={Uri.EscapeDataString(result.GetValue(destination)!)}"
                + (result.GetValue(name) is { } n ? $"&name={Uri.EscapeDataString(n)}" : string.Empty);
            Console.Write(await client.GetTextAsync($"/api/discover/{Uri.EscapeDataString(result.GetValue(connection)!)}{query}", cancellationToken));
            return 0;
        });
        return command;
    }

    private static Command Runs()
    {
        var job = new Argument<string>("job") { Description = "Job name" };
        var limit = new Option<int>("--limit") { DefaultValueFactory = _ => 20, Description = "How many recent runs" };
        var command = new Command("runs", "Recent runs of a job") { job, limit };
        command.SetAction(async (result, cancellationToken) =>
        {
            using var client = Client(result);
            var runs = await client.GetAsync($"/api/jobs/{Uri.EscapeDataString(result.GetValue(job)!)}/runs?limit={result.GetValue(limit)}", cancellationToken);
            if (result.GetValue(Json))
            {
                Console.WriteLine(runs.GetRawText());
                return 0;
            }

            // A streams job by cursor lists its streams' runs: each names its stream.
            foreach (var run in runs.EnumerateArray())
            {
                PrintRun(run, withJob: Text(run, "jobName") != result.GetValue(job));
            }

            return 0;
        });
        return command;
    }

    private static CoordinatorClient Client(ParseResult result) => new(result.GetValue(Api)!, result.GetValue(ApiKey));

    /// <param name="withJob">Name the run's job (a stream <c>JOB.STREAM</c>) after its id.</param>
    internal static void PrintRun(JsonElement run, bool withJob = false)
    {
        Console.WriteLine(
            $"run {run.GetProperty("runId").GetGuid()}  {(withJob ? $"{Text(run, "jobName")}  " : string.Empty)}{run.GetProperty("state").GetString()}  " +
            $"processed {run.GetProperty("processed").GetInt64()}  inserted {run.GetProperty("inserted").GetInt64()}  " +
            $"updated {run.GetProperty("updated").GetInt64()}  skipped {run.GetProperty("skipped").GetInt64()}  " +
            $"errors {run.GetProperty("errors").GetInt64()}  " +
            (run.TryGetProperty("deleted", out var deleted) && deleted.GetInt64() > 0 ? $"deleted {deleted.GetInt64()}  " : string.Empty) +
            $"duration {Text(run, "durationMs") ?? "-"} ms");
        if (Text(run, "failureReason") is { } reason)
        {
            Console.WriteLine($"  reason: {reason}");
        }

        if (run.TryGetProperty("schemaChanges", out var changes) && changes.ValueKind == JsonValueKind.Array)
        {
            foreach (var change in changes.EnumerateArray())
            {
                Console.WriteLine($"  schema: {change.GetString()}");
            }
        }

        // A cdc streams run's counts per stream (issue 18).
        if (run.TryGetProperty("streams", out var streams) && streams.ValueKind == JsonValueKind.Array)
        {
            foreach (var stream in streams.EnumerateArray())
            {
                Console.WriteLine($"  stream {Text(stream, "stream")}  batches {Text(stream, "batches")}  rows {Text(stream, "rows")}  inserted {Text(stream, "inserted")}  "
                    + $"updated {Text(stream, "updated")}  deleted {Text(stream, "deleted")}  failed {Text(stream, "failed")}");
            }
        }
    }

    /// <summary>The table of <c>syncctl jobs</c>: one line per job; an invalid job file says so, then one indented line per error.</summary>
    internal static IEnumerable<string> JobLines(JsonElement jobs)
    {
        yield return $"{"JOB",-28} {"SCHEDULE",-16} {"LAST SYNC",-34} SOURCE -> DESTINATION";
        foreach (var job in jobs.EnumerateArray())
        {
            var name = job.GetProperty("name").GetString();
            if (job.TryGetProperty("valid", out var valid) && valid.ValueKind == JsonValueKind.False)
            {
                var errors = job.GetProperty("errors");
                yield return $"{name,-28} {"INVALID",-16} {Text(job, "file")}: {errors.GetArrayLength()} problem(s); the job does not run until the file is fixed and the Coordinator restarted";
                foreach (var error in errors.EnumerateArray())
                {
                    yield return $"  {Text(error, "text")}";
                }

                continue;
            }

            yield return $"{name,-28} {Text(job, "schedule") ?? "manual",-16} {Text(job, "lastSync") ?? "-",-34} {Text(job, "source")} -> {Text(job, "destination")}";
        }
    }

    /// <summary>Whether the Coordinator lists a job file it could not load.</summary>
    internal static bool AnyInvalid(JsonElement jobs) =>
        jobs.EnumerateArray().Any(job => job.TryGetProperty("valid", out var valid) && valid.ValueKind == JsonValueKind.False);

    internal static string? Text(JsonElement element, string property) =>
        element.TryGetProperty(property, out var value) && value.ValueKind != JsonValueKind.Null
            ? value.ValueKind == JsonValueKind.String ? value.GetString() : value.GetRawText()
            : null;
}
