using System.Globalization;
using System.Reflection;

namespace Sync.Connectors;

/// <summary>
/// One numbered step of the bookkeeping a destination kind keeps in the destination's <c>sync</c>
/// schema: an embedded script <c>Migrations/NNNN_name.sql</c> of the kind's project. The list is in
/// version order; a destination records each step it has applied in <c>sync.schema_migrations</c>.
/// </summary>
public sealed record DestinationMigration(int Version, string Name, string Sql)
{
    /// <summary>The schema of Sync's bookkeeping in every destination that has schemas.</summary>
    public const string Schema = "sync";

    /// <summary>The version table's name in <see cref="Schema"/>.</summary>
    public const string VersionTableName = "schema_migrations";

    /// <summary>The version table every destination kind keeps, qualified.</summary>
    public const string VersionTable = Schema + "." + VersionTableName;

    /// <summary>
    /// The scripts embedded in <paramref name="assembly"/> under <paramref name="prefix"/>, by version.
    /// Versions must run 1, 2, 3… without gaps or repeats: a gap would let a destination be read as
    /// newer or older than it is.
    /// </summary>
    public static IReadOnlyList<DestinationMigration> Embedded(Assembly assembly, string prefix)
    {
        var migrations = new List<DestinationMigration>();
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith(prefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            var file = resource[prefix.Length..^".sql".Length];
            var separator = file.IndexOf('_', StringComparison.Ordinal);
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream);
            migrations.Add(new DestinationMigration(int.Parse(file[..separator], CultureInfo.InvariantCulture), file[(separator + 1)..], reader.ReadToEnd()));
        }

        for (var i = 0; i < migrations.Count; i++)
        {
            if (migrations[i].Version != i + 1)
            {
                throw new InvalidOperationException($"Destination migrations under {prefix} must be numbered 1, 2, 3… without gaps; found {migrations[i].Version} at position {i + 1}.");
            }
        }

        return migrations;
    }

    /// <summary>The refusal of a destination whose bookkeeping a newer Sync has migrated past what this one knows.</summary>
    public static DestinationSchemaException Newer(string destination, int found, IReadOnlyList<DestinationMigration> known) =>
        new($"The bookkeeping in {destination}'s sync schema is at version {found} ({VersionTable}), newer than version {known[^1].Version} ({known[^1].Name}), the latest this Loader knows. " +
            "A newer Sync has migrated it: run that version of the Loader, or restore the destination.");
}
