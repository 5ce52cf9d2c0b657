using System.CommandLine;
using System.Text.Json;

namespace Sync.Cli;

/// <summary><c>syncctl watermark set JOB VALUE</c> and <c>syncctl backfill JOB --from X --to Y</c> (issue 18, item 4).</summary>
internal static class WatermarkCommands
{
    public static Command Watermark(Func<ParseResult, CoordinatorClient> client, Option<bool> json)
    {
        var job = new Argument<string>("job") { Description = "Job name" };
        var value = new Argument<string>("value") { Description = "A value of the job's cursor column; the next run reads the rows after it" };
        var set = new Command("set", "Set a job's watermark to a cursor value (refused while a run is active, and for cdc and full-refresh jobs)") { job, value };
        set.SetAction(async (result, cancellationToken) =>
        {
            var name = result.GetValue(job)!;
            using var coordinator = client(result);
            var answer = await coordinator.PutAsync(
                $"/api/jobs/{Uri.EscapeDataString(name)}/watermark", JsonSerializer.Serialize(new { value = result.GetValue(value) }), cancellationToken);
            Console.WriteLine(result.GetValue(json)
                ? answer.GetRawText()
                : $"{name}: watermark set to {SyncCommands.Text(answer, "watermark")} (was {SyncCommands.Text(answer, "previousWatermark") ?? "none"})");
            return 0;
        });
        return new Command("watermark", "A job's watermark: set it by hand (reset forgets it)") { set };
    }

    public static Command Backfill(Func<ParseResult, CoordinatorClient> client, Option<bool> json)
    {
        var job = new Argument<string>("job") { Description = "Job name" };
        var from = new Option<string>("--from") { Description = "First cursor value of the range (included)", Required = true };
        var to = new Option<string>("--to") { Description = "End of the range (excluded)", Required = true };
        var command = new Command("backfill", "Load the rows with from <= cursor < to again, through the normal pipeline; the watermark does not move (not for cdc jobs)") { job, from, to };
        command.SetAction(async (result, cancellationToken) =>
        {
            var name = result.GetValue(job)!;
            using var coordinator = client(result);
            var answer = await coordinator.PostAsync(
                $"/api/jobs/{Uri.EscapeDataString(name)}/backfill",
                cancellationToken,
                JsonSerializer.Serialize(new { from = result.GetValue(from), to = result.GetValue(to) }));
            Console.WriteLine(result.GetValue(json)
                ? answer.GetRawText()
                : $"{SyncCommands.Text(answer, "runId")}  backfill of {name} [{SyncCommands.Text(answer, "from")}, {SyncCommands.Text(answer, "to")})");
            return 0;
        });
        return command;
    }
}
