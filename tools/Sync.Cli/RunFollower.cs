using System.Diagnostics;
using System.Text.Json;
using Spectre.Console;

namespace Sync.Cli;

/// <summary>Polls a run until it ends, showing its progress live on a terminal and as changed lines otherwise.</summary>
internal static class RunFollower
{
    public static async Task<JsonElement> FollowAsync(CoordinatorClient client, Guid runId, bool live, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        if (live)
        {
            JsonElement last = default;
            await AnsiConsole.Live(new Markup($"run {runId}  starting")).StartAsync(async context =>
            {
                last = await PollAsync(client, runId, run => context.UpdateTarget(new Markup(Markup.Escape($"run {runId}  {RunProgressLine.Format(run, clock.Elapsed)}"))), cancellationToken);
            });
            return last;
        }

        var lastLine = string.Empty;
        return await PollAsync(client, runId, run =>
        {
            var line = RunProgressLine.Format(run, clock.Elapsed);
            var withoutRate = line[..line.LastIndexOf("  ", StringComparison.Ordinal)];
            if (withoutRate != lastLine)
            {
                Console.Error.WriteLine($"  {line}");
                lastLine = withoutRate;
            }
        }, cancellationToken);
    }

    private static async Task<JsonElement> PollAsync(CoordinatorClient client, Guid runId, Action<JsonElement> show, CancellationToken cancellationToken)
    {
        while (true)
        {
            var run = await client.GetAsync($"/api/runs/{runId}", cancellationToken, allowNotFound: true);
            if (run.ValueKind == JsonValueKind.Object)
            {
                show(run);
                if (RunProgressLine.IsFinished(run.GetProperty("state").GetString()))
                {
                    return run;
                }
            }

            await Task.Delay(500, cancellationToken);
        }
    }
}
