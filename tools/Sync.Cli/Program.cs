using System.CommandLine;
using Sync.Cli;

try
{
    return await SyncCommands.Build().Parse(args).InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (CoordinatorException exception)
{
    await Console.Error.WriteLineAsync($"error ({exception.Status}): {exception.Message}");
    return 2;
}
catch (HttpRequestException exception)
{
    await Console.Error.WriteLineAsync($"error: the Coordinator does not answer ({exception.Message}). Check --url or SYNC_URL.");
    return 2;
}
