using System.CommandLine;

namespace Sync.Cli;

/// <summary><c>syncctl check CONNECTION</c>: open a connection through the Extractor; exit 0 ok, 1 failed, 2 unknown connection.</summary>
internal static class CheckCommand
{
    public static Command Build(Func<ParseResult, CoordinatorClient> client, Option<bool> json)
    {
        var connection = new Argument<string>("connection") { Description = "Connection name (Connections__NAME, HttpConnections__NAME or S3Connections__NAME of the Extractor)" };
        var command = new Command("check", "Open a connection and report the server (PostgreSQL: version, cdc readiness; S3: the bucket listed) or the error; exit 0 ok, 1 failed, 2 unknown") { connection };
        command.SetAction(async (result, cancellationToken) =>
        {
            using var coordinator = client(result);
            var name = result.GetValue(connection)!;
            var answer = await coordinator.PostAsync($"/api/connections/{Uri.EscapeDataString(name)}/check", cancellationToken);
            var ok = answer.GetProperty("ok").GetBoolean();
            if (result.GetValue(json))
            {
                Console.WriteLine(answer.GetRawText());
            }
            else if (ok && SyncCommands.Text(answer, "kind") == "postgres")
            {
                Console.WriteLine($"{name}: ok  postgres {SyncCommands.Text(answer, "serverVersion")}  " +
                    $"wal_level logical: {Yes(SyncCommands.Text(answer, "walLevelLogical"))}  role can replicate: {Yes(SyncCommands.Text(answer, "canReplicate"))}");
            }
            else if (ok)
            {
                Console.WriteLine($"{name}: ok  {SyncCommands.Text(answer, "kind")} {SyncCommands.Text(answer, "serverVersion")}");
            }
            else
            {
                Console.WriteLine($"{name}: failed  {SyncCommands.Text(answer, "error")}");
            }

            return ok ? 0 : 1;
        });
        return command;
    }

    private static string Yes(string? flag) => flag == "true" ? "yes" : flag == "false" ? "no" : "-";
}
