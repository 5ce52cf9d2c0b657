using System.Reflection;
using System.Runtime.Loader;
using Sync.Sdk;

namespace Sync.Transformer;

/// <summary>
/// The C# transforms a job file may name (<c>transform: { code: name }</c>): classes implementing
/// <see cref="ISyncTransform"/> with <see cref="SyncTransformAttribute"/> and a parameterless
/// constructor, from the assemblies of <see cref="TransformerOptions.Plugins"/> or added by a host.
/// Finding them is the only reflection in the transform path; job files never name a type.
/// </summary>
internal sealed class CodeTransforms
{
    private readonly Dictionary<string, Func<ISyncTransform>> _factories = new(StringComparer.Ordinal);

    public IReadOnlyCollection<string> Names => _factories.Keys;

    /// <summary>Registers every [SyncTransform] class of the assembly.</summary>
    public CodeTransforms Add(Assembly assembly)
    {
        foreach (var type in assembly.GetExportedTypes())
        {
            if (type.GetCustomAttribute<SyncTransformAttribute>() is { } attribute && typeof(ISyncTransform).IsAssignableFrom(type) && !type.IsAbstract)
            {
                if (type.GetConstructor(Type.EmptyTypes) is not { } constructor)
                {
                    throw new InvalidOperationException($"Transform {type.FullName} ([SyncTransform(\"{attribute.Name}\")]) needs a public parameterless constructor.");
                }

                Add(attribute.Name, () => (ISyncTransform)constructor.Invoke(null));
            }
        }

        return this;
    }

    public CodeTransforms Add(string name, Func<ISyncTransform> factory)
    {
        if (!_factories.TryAdd(name, factory))
        {
            throw new InvalidOperationException($"Two C# transforms are registered as \"{name}\".");
        }

        return this;
    }

    /// <summary>Loads every *.dll of the folder into the default load context (so they share Sync.Sdk with the host) and registers their transforms.</summary>
    public CodeTransforms AddFolder(string folder)
    {
        if (!Directory.Exists(folder))
        {
            throw new DirectoryNotFoundException($"Transformer__Plugins: folder {folder} does not exist.");
        }

        foreach (var path in Directory.EnumerateFiles(folder, "*.dll").Order(StringComparer.Ordinal))
        {
            var name = AssemblyName.GetAssemblyName(path);
            if (AppDomain.CurrentDomain.GetAssemblies().Any(a => AssemblyName.ReferenceMatchesDefinition(a.GetName(), name)))
            {
                continue;
            }

            Add(AssemblyLoadContext.Default.LoadFromAssemblyPath(Path.GetFullPath(path)));
        }

        return this;
    }

    /// <exception cref="TransformDefinitionException">No transform of that name is registered.</exception>
    public ISyncTransform Create(string name) =>
        _factories.TryGetValue(name, out var factory)
            ? factory()
            : throw new TransformDefinitionException(
                $"transform.code: no C# transform is registered as \"{name}\" (registered: {(_factories.Count == 0 ? "none" : string.Join(", ", _factories.Keys.Order()))}); put its assembly in the Transformer__Plugins folder");
}
