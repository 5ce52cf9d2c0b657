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
    await Console.Error.WriteLineAsync($"Refusing to start: {exception.Errors.Count} problem(s) in the job files.\n{exception.Message}");
    return 2;
}

app.MapCoordinatorApi();
app.UseCoordinatorSchedules();
await app.RunAsync();
return 0;
