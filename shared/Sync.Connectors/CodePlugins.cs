using System.Reflection;
using System.Runtime.Loader;

namespace Sync.Connectors;

/// <summary>
/// The C# sources or sinks a job file may name: classes implementing <typeparamref name="T"/> with the
/// registering attribute and a public parameterless constructor, from the assemblies of a plugins
/// folder or added by a host. Finding them is the only reflection on this path; job files never name a type.
/// </summary>
public abstract class CodePlugins<T>
    where T : class
{
    private readonly Dictionary<string, Func<T>> _factories = new(StringComparer.Ordinal);
    private readonly HashSet<Assembly> _assemblies = [];

    public IReadOnlyCollection<string> Names => _factories.Keys;

    /// <summary>What the plugins are called in messages: "source", "sink".</summary>
    protected abstract string Role { get; }

    /// <summary>The setting that names the plugins folder, e.g. <c>Extractor__Plugins</c>.</summary>
    protected abstract string FolderSetting { get; }

    /// <summary>The registered name of a type, or null when it is not marked.</summary>
    protected abstract string? NameOf(Type type);

    /// <summary>Registers every marked class of the assembly; an assembly added before (by the host or another folder) is not added again.</summary>
    public CodePlugins<T> Add(Assembly assembly)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        if (!_assemblies.Add(assembly))
        {
            return this;
        }

        foreach (var type in assembly.GetExportedTypes())
        {
            if (NameOf(type) is { } name && typeof(T).IsAssignableFrom(type) && !type.IsAbstract)
            {
                if (type.GetConstructor(Type.EmptyTypes) is not { } constructor)
                {
                    throw new InvalidOperationException($"C# {Role} {type.FullName} (\"{name}\") needs a public parameterless constructor.");
                }

                Add(name, () => (T)constructor.Invoke(null));
            }
        }

        return this;
    }

    public CodePlugins<T> Add(string name, Func<T> factory)
    {
        if (!_factories.TryAdd(name, factory))
        {
            throw new InvalidOperationException($"Two C# {Role}s are registered as \"{name}\".");
        }

        return this;
    }

    /// <summary>
    /// Loads every *.dll of the folder into the default load context (so they share Sync.Sdk with the host)
    /// and registers their classes. An assembly the process has loaded already is used as it is: the
    /// default context cannot load a second copy of it.
    /// </summary>
    public CodePlugins<T> AddFolder(string folder)
    {
        if (!Directory.Exists(folder))
        {
            throw new DirectoryNotFoundException($"{FolderSetting}: folder {folder} does not exist.");
        }

        foreach (var path in Directory.EnumerateFiles(folder, "*.dll").Order(StringComparer.Ordinal))
        {
            var name = AssemblyName.GetAssemblyName(path);
            var loaded = AppDomain.CurrentDomain.GetAssemblies().FirstOrDefault(a => AssemblyName.ReferenceMatchesDefinition(a.GetName(), name));
            Add(loaded ?? AssemblyLoadContext.Default.LoadFromAssemblyPath(Path.GetFullPath(path)));
        }

        return this;
    }

    /// <exception cref="SourceSchemaException">No class of that name is registered (for a source).</exception>
    /// <exception cref="DestinationSchemaException">No class of that name is registered (for a sink).</exception>
    public T Create(string name) =>
        _factories.TryGetValue(name, out var factory)
            ? factory()
            : throw Unknown($"no C# {Role} is registered as \"{name}\" (registered: {(_factories.Count == 0 ? "none" : string.Join(", ", _factories.Keys.Order(StringComparer.Ordinal)))}); put its assembly in the {FolderSetting} folder");

    protected abstract Exception Unknown(string message);
}
