using Sync.Jobs;

var builder = WebApplication.CreateBuilder(args);
builder.AddSyncDefaults("sync-coordinator");
builder.AddCoordinator();
builder.BindToLoopbackByDefault();

var app = builder.Build();
try
{
    await app.MigrateControlDatabaseAsync();
}
catch (InvalidJobFileException exception)
{
    // Only a missing jobs folder: an invalid job file stops its own job, not the Coordinator.
    await Console.Error.WriteLineAsync($"Refusing to start: {exception.Message}");
    return 2;
}

app.MapCoordinatorApi();
app.UseCoordinatorSchedules();
await app.RunAsync();
return 0;
