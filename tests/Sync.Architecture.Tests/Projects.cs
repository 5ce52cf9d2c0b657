using System.Reflection;
using System.Xml.Linq;

namespace Sync.Architecture.Tests;

/// <summary>
/// The repository's libraries (shared/) and services (services/), each with what it depends on:
/// the assemblies its compiled code references, following Sync's own assemblies transitively,
/// and the projects and packages its project file names.
/// </summary>
internal static class Projects
{
    /// <summary>The repository's root folder, the one holding Sync.sln.</summary>
    public static string Root { get; } = FindRoot();

    public static IReadOnlyList<string> Services { get; } = NamesUnder("services");

    public static IReadOnlyList<string> Libraries { get; } = NamesUnder("shared");

    /// <summary>The project files under tests/, one folder each (Sync.Testing included).</summary>
    public static IReadOnlyList<string> TestProjectFiles { get; } =
        [.. Directory.EnumerateFiles(Path.Combine(Root, "tests"), "*.csproj", SearchOption.AllDirectories)
            .Where(file => Path.GetFileName(Path.GetDirectoryName(file)) == Path.GetFileNameWithoutExtension(file))
            .Order(StringComparer.Ordinal)];

    /// <summary>The connectors core every kind builds on.</summary>
    public const string ConnectorsCore = "Sync.Connectors";

    /// <summary>A project per connector kind: Sync.Connectors.Postgres, Sync.Connectors.S3, …</summary>
    public static IReadOnlyList<string> ConnectorKinds { get; } =
        [.. Libraries.Where(name => name.StartsWith(ConnectorsCore + ".", StringComparison.Ordinal))];

    public static IReadOnlySet<string> DependenciesOf(string project)
    {
        var found = new SortedSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>([project]);
        while (pending.TryPop(out var name))
        {
            var references = Assembly.Load(new AssemblyName(name)).GetReferencedAssemblies()
                .Select(reference => reference.Name!)
                .Concat(ProjectFileReferences(name));
            foreach (var reference in references)
            {
                if (found.Add(reference) && IsSync(reference) && reference != project)
                {
                    pending.Push(reference);
                }
            }
        }

        return found;
    }

    public static bool IsSync(string assembly) => assembly.StartsWith("Sync.", StringComparison.Ordinal);

    // A project reference the code does not use yet leaves no trace in the assembly; the project
    // file still makes it a dependency.
    private static IEnumerable<string> ProjectFileReferences(string project)
    {
        var file = Directory.EnumerateFiles(Root, project + ".csproj", SearchOption.AllDirectories).SingleOrDefault();
        if (file is null)
        {
            return [];
        }

        return XDocument.Load(file).Descendants()
            .Where(element => element.Name.LocalName is "ProjectReference" or "PackageReference")
            .Select(element => Path.GetFileNameWithoutExtension(element.Attribute("Include")!.Value));
    }

    private static string[] NamesUnder(string folder) =>
        [.. Directory.EnumerateFiles(Path.Combine(Root, folder), "*.csproj", SearchOption.AllDirectories)
            .Select(Path.GetFileNameWithoutExtension)
            .OfType<string>()
            .Order(StringComparer.Ordinal)];

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Sync.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No Sync.sln above {AppContext.BaseDirectory}");
    }
}
