using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using Google.Protobuf;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Sync.EndToEnd.Tests.Infrastructure;

/// <summary>
/// An OpenTelemetry collector on loopback for one test: accepts OTLP/HTTP protobuf on /v1/traces
/// (and /v1/metrics, /v1/logs, answered and dropped) and keeps every span it was sent.
/// </summary>
public sealed class OtlpCollector : IAsyncDisposable
{
    private static readonly byte[] EmptyResponse = [];
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<CollectedSpan> _spans = new();

    private OtlpCollector(WebApplication app) => _app = app;

    public string Endpoint { get; private set; } = null!;

    public IReadOnlyList<CollectedSpan> Spans => [.. _spans];

    public static async Task<OtlpCollector> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var collector = new OtlpCollector(app);
        app.MapPost("/v1/traces", async (HttpRequest request) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            foreach (var span in OtlpTraces.Read(body.ToArray()))
            {
                collector._spans.Enqueue(span);
            }

            return Results.Bytes(EmptyResponse, "application/x-protobuf");
        });
        app.MapPost("/v1/metrics", () => Results.Bytes(EmptyResponse, "application/x-protobuf"));
        app.MapPost("/v1/logs", () => Results.Bytes(EmptyResponse, "application/x-protobuf"));
        await app.StartAsync();
        collector.Endpoint = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return collector;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>One span as the collector received it; ids in lower-case hex, attribute values as text.</summary>
public sealed record CollectedSpan(
    string Service, string Scope, string TraceId, string SpanId, string ParentSpanId, string Name, IReadOnlyDictionary<string, string> Attributes)
{
    public string? Attribute(string key) => Attributes.TryGetValue(key, out var value) ? value : null;
}

/// <summary>
/// Reads ExportTraceServiceRequest (opentelemetry/proto/collector/trace/v1) with protobuf's wire
/// reader: no OTLP message package is served here, and a test needs only these fields.
/// </summary>
internal static class OtlpTraces
{
    public static List<CollectedSpan> Read(byte[] request)
    {
        var spans = new List<CollectedSpan>();
        foreach (var (field, resourceSpans) in Fields(request))
        {
            if (field == 1)
            {
                ReadResourceSpans(resourceSpans!, spans);
            }
        }

        return spans;
    }

    // ResourceSpans: 1 resource, 2 scope_spans.
    private static void ReadResourceSpans(byte[] message, List<CollectedSpan> spans)
    {
        var service = "";
        var scopes = new List<byte[]>();
        foreach (var (field, value) in Fields(message))
        {
            if (field == 1)
            {
                // Resource: 1 attributes.
                var attributes = Attributes(Fields(value!).Where(f => f.Field == 1).Select(f => f.Value!));
                service = attributes.GetValueOrDefault("service.name", "");
            }
            else if (field == 2)
            {
                scopes.Add(value!);
            }
        }

        foreach (var scopeSpans in scopes)
        {
            // ScopeSpans: 1 scope (InstrumentationScope: 1 name), 2 spans.
            var scope = "";
            foreach (var (field, value) in Fields(scopeSpans))
            {
                if (field == 1)
                {
                    scope = Fields(value!).Where(f => f.Field == 1).Select(f => Text(f.Value!)).FirstOrDefault() ?? "";
                }
                else if (field == 2)
                {
                    spans.Add(ReadSpan(service, scope, value!));
                }
            }
        }
    }

    // Span: 1 trace_id, 2 span_id, 4 parent_span_id, 5 name, 9 attributes.
    private static CollectedSpan ReadSpan(string service, string scope, byte[] message)
    {
        string traceId = "", spanId = "", parentSpanId = "", name = "";
        var attributes = new List<byte[]>();
        foreach (var (field, value) in Fields(message))
        {
            switch (field)
            {
                case 1: traceId = Convert.ToHexStringLower(value!); break;
                case 2: spanId = Convert.ToHexStringLower(value!); break;
                case 4: parentSpanId = Convert.ToHexStringLower(value!); break;
                case 5: name = Text(value!); break;
                case 9: attributes.Add(value!); break;
            }
        }

        return new CollectedSpan(service, scope, traceId, spanId, parentSpanId, name, Attributes(attributes));
    }

    // KeyValue: 1 key, 2 value (AnyValue: 1 string, 2 bool, 3 int64, 4 double).
    private static Dictionary<string, string> Attributes(IEnumerable<byte[]> keyValues)
    {
        var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var keyValue in keyValues)
        {
            string? key = null, text = null;
            var input = new CodedInputStream(keyValue);
            uint tag;
            while ((tag = input.ReadTag()) != 0)
            {
                if (WireFormat.GetTagFieldNumber(tag) == 1)
                {
                    key = input.ReadString();
                }
                else if (WireFormat.GetTagFieldNumber(tag) == 2)
                {
                    text = AnyValue(input.ReadBytes().ToByteArray());
                }
                else
                {
                    input.SkipLastField();
                }
            }

            if (key is not null && text is not null)
            {
                attributes[key] = text;
            }
        }

        return attributes;
    }

    private static string? AnyValue(byte[] message)
    {
        var input = new CodedInputStream(message);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1: return input.ReadString();
                case 2: return input.ReadBool() ? "true" : "false";
                case 3: return input.ReadInt64().ToString(CultureInfo.InvariantCulture);
                case 4: return input.ReadDouble().ToString(CultureInfo.InvariantCulture);
                default: input.SkipLastField(); break;
            }
        }

        return null;
    }

    /// <summary>The fields of a message; length-delimited ones with their bytes, others skipped (null).</summary>
    private static List<(int Field, byte[]? Value)> Fields(byte[] message)
    {
        var fields = new List<(int, byte[]?)>();
        var input = new CodedInputStream(message);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited)
            {
                fields.Add((WireFormat.GetTagFieldNumber(tag), input.ReadBytes().ToByteArray()));
            }
            else
            {
                input.SkipLastField();
            }
        }

        return fields;
    }

    private static string Text(byte[] utf8) => System.Text.Encoding.UTF8.GetString(utf8);
}
