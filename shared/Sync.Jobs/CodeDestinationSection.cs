using Sync.Contracts.Jobs;

namespace Sync.Jobs;

/// <summary>
/// The <c>destination:</c> keys of <c>type: code</c>: the name a C# sink is registered under
/// (<c>[SyncSink("name")]</c>). It has no connection, table or conflict strategy: the sink writes
/// where it writes, idempotently by run and batch. The name travels in <see cref="DestinationSpec.Table"/>.
/// </summary>
internal static class CodeDestinationSection
{
    public static readonly string[] Keys = ["name"];

    private static readonly string[] Allowed = ["type", "name"];

    public static DestinationSpec? Read(YamlNodeReader destination, JobFileErrors errors, SourceDraft? source, IReadOnlyList<string>? defaultKey)
    {
        foreach (var key in DestinationSection.Keys.Except(Allowed).Where(destination.Has))
        {
            errors.Add(destination.KeyMark(key), destination.FieldOf(key), "does not apply to a code destination",
                "remove it: a code destination hands each batch to its C# sink; only name applies");
        }

        if (source?.Mode == SyncMode.Cdc && destination.Has("type"))
        {
            errors.Add(destination.KeyMark("type"), destination.FieldOf("type"), "a cdc job cannot load into a code destination: only the PostgreSQL destination applies the deletes it streams",
                "use type: postgres, or read the source with mode: incremental");
        }

        var name = destination.Scalar("name", "orders_jsonl", required: true) is { } n ? CodeSourceSection.Name(n, errors, "[SyncSink(\"orders_jsonl\")]") : null;
        return name is null ? null : new DestinationSpec(DestinationKind.Code, string.Empty, name, defaultKey ?? []);
    }

    /// <summary>Reports <c>name:</c> under a destination of another kind.</summary>
    public static void RefuseKeys(YamlNodeReader destination, JobFileErrors errors, string kind)
    {
        foreach (var key in Keys.Where(destination.Has))
        {
            errors.Add(destination.KeyMark(key), destination.FieldOf(key), $"does not apply to a {kind} destination",
                "remove it, or set type: code to hand batches to a C# sink registered under that name");
        }
    }
}
