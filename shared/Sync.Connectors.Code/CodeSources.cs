using Sync.Sdk;

namespace Sync.Connectors.Code;

/// <summary>The [SyncSource] classes a <c>type: code</c> source may name, loaded from <c>Extractor__Plugins</c>.</summary>
public sealed class CodeSources : CodePlugins<ISyncSource>
{
    protected override string Role => "source";

    protected override string FolderSetting => "Extractor__Plugins";

    protected override string? NameOf(Type type) => (Attribute.GetCustomAttribute(type, typeof(SyncSourceAttribute)) as SyncSourceAttribute)?.Name;

    protected override Exception Unknown(string message) => new SourceSchemaException($"source.name: {message}.");
}

/// <summary>The [SyncSink] classes a <c>type: code</c> destination may name, loaded from <c>Loader__Plugins</c>.</summary>
public sealed class CodeSinks : CodePlugins<ISyncSink>
{
    protected override string Role => "sink";

    protected override string FolderSetting => "Loader__Plugins";

    protected override string? NameOf(Type type) => (Attribute.GetCustomAttribute(type, typeof(SyncSinkAttribute)) as SyncSinkAttribute)?.Name;

    protected override Exception Unknown(string message) => new DestinationSchemaException($"destination.name: {message}.");
}
