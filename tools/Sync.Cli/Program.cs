using Sync.Cli;

return await SyncCommands.Build().Parse(args).InvokeAsync();
