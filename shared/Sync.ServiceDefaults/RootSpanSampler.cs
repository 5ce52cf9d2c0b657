using System.Diagnostics;
using OpenTelemetry.Trace;

namespace Sync.ServiceDefaults;

/// <summary>
/// Root sampler: drops client spans that start a trace of their own — the database calls of the
/// outbox's polling, the sweeps and the health checks, a trace each every few seconds — and keeps
/// every other root (a run, a message). Spans with a parent follow it (ParentBasedSampler).
/// </summary>
internal sealed class RootSpanSampler : Sampler
{
    private static readonly SamplingResult Drop = new(SamplingDecision.Drop);
    private static readonly SamplingResult Keep = new(SamplingDecision.RecordAndSample);

    public override SamplingResult ShouldSample(in SamplingParameters samplingParameters) =>
        samplingParameters.Kind == ActivityKind.Client ? Drop : Keep;
}
