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

    /// <summary>
    /// The wait before the next look at a run <paramref name="elapsed"/> old: a twentieth of it, from
    /// 50 ms to 500 ms. A run of a tenth of a second is seen to end within 50 ms rather than half a
    /// second after (the 1% run of bench/pg-to-pg.sh took 0.13 s, and the CLI 0.65 s); a long run
    /// costs the Coordinator at most two requests a second.
    /// </summary>
    internal static TimeSpan PollInterval(TimeSpan elapsed) =>
        TimeSpan.FromTicks(Math.Clamp(elapsed.Ticks / 20, TimeSpan.FromMilliseconds(50).Ticks, TimeSpan.FromMilliseconds(500).Ticks));

    private static async Task<JsonElement> PollAsync(CoordinatorClient client, Guid runId, Action<JsonElement> show, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
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

            await Task.Delay(PollInterval(clock.Elapsed), cancellationToken);
        }
    }
}
