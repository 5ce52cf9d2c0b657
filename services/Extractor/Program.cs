using Microsoft.Extensions.Hosting;

var builder = Host.CreateApplicationBuilder(args);
builder.AddSyncDefaults("sync-extractor");
builder.AddSyncHealthEndpoints();
builder.AddExtractor();
await builder.Build().RunAsync();
