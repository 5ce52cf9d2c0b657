using System.Reflection;
using Sync.Connectors;
using Sync.Sdk;

namespace Sync.Transformer;

/// <summary>
/// The C# transforms a job file may name (<c>transform: { code: name }</c>): classes implementing
/// <see cref="ISyncTransform"/> with <see cref="SyncTransformAttribute"/>, from the assemblies of
/// <see cref="TransformerOptions.Plugins"/> or added by a host, found as the C# sources and sinks are.
/// </summary>
internal sealed class CodeTransforms : CodePlugins<ISyncTransform>
{
    protected override string Role => "transform";

    protected override string FolderSetting => "Transformer__Plugins";

    protected override string? NameOf(Type type) => type.GetCustomAttribute<SyncTransformAttribute>()?.Name;

    /// <summary>No transform of that name is registered.</summary>
    protected override Exception Unknown(string message) => new TransformDefinitionException($"transform.code: {message}");
}
