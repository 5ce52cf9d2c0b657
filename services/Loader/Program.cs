using Microsoft.Extensions.Hosting;

var builder = Host.CreateApplicationBuilder(args);
builder.AddSyncDefaults("sync-loader");
builder.AddSyncHealthEndpoints();
builder.AddLoader();
await builder.Build().RunAsync();
