using Microsoft.Extensions.Hosting;

var builder = Host.CreateApplicationBuilder(args);
builder.AddSyncDefaults("sync-transformer");
builder.AddSyncHealthEndpoints();
builder.AddTransformer();
await builder.Build().RunAsync();
