using Microsoft.Extensions.Hosting;

var builder = Host.CreateApplicationBuilder(args);
builder.AddSyncDefaults("sync-extractor");
builder.AddExtractor();
await builder.Build().RunAsync();
