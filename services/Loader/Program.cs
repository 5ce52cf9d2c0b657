using Microsoft.Extensions.Hosting;

var builder = Host.CreateApplicationBuilder(args);
builder.AddSyncDefaults("sync-loader");
builder.AddLoader();
await builder.Build().RunAsync();
