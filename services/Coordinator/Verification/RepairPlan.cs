using Sync.Contracts;
using Sync.Contracts.Jobs;

namespace Sync.Coordinator.Verification;

/// <summary>
/// Which keys of a verification a repair run reads again, as source primary-key values: missing and
/// different keys, and extra keys where the job deletes (the source no longer has them, so the
/// Extractor sends their deletes). A destination that repeats a key gets no repair run at all: it has
/// no unique key on the destination key, and the Loader's upsert (INSERT … ON CONFLICT) refuses such
/// a table, so the run would fail on every key; the note tells the operator what to fix first.
/// </summary>
internal static class RepairPlan
{
    public static (IReadOnlyList<IReadOnlyList<string>> Keys, string? Note) KeysOf(JobSpec job, JobVerified result)
    {
        if (job.Destination.Kind == DestinationKind.S3)
        {
            return ([], "an S3 destination's objects are not repaired by key: run the job again (a new run writes new objects and manifest)");
        }

        if (result.Duplicated > 0)
        {
            return ([], $"the destination repeats {result.Duplicated} key(s), so it has no unique key on ({string.Join(", ", job.Destination.Key)}); "
                + "the Loader upserts by that key and refuses such a table, so no repair run was started. Remove the repeated rows and "
                + "restore the unique key (e.g. the primary key), then verify --repair again");
        }

        if (job.Source.Kind != SourceKind.Postgres || job.Source.PrimaryKey.Count == 0)
        {
            return ([], "the source cannot be read by key");
        }

        // The destination key's position of each source primary-key column.
        var positions = new List<int>();
        foreach (var column in job.Source.PrimaryKey)
        {
            var target = job.Transform.Columns.Count == 0 ? column
                : job.Transform.Columns.FirstOrDefault(c => c.Source == column && c.Expression is null)?.Target;
            var position = target is null ? -1 : job.Destination.Key.ToList().IndexOf(target);
            if (position < 0)
            {
                return ([], $"source primary-key column \"{column}\" is not part of the destination key, so a destination key cannot be read by key in the source");
            }

            positions.Add(position);
        }

        var wanted = result.Mismatches
            .Where(m => m.Kind is "missing" or "different" || (m.Kind == "extra" && job.Destination.Deletes != DeleteMode.Keep))
            .ToList();
        var keys = wanted
            .Where(m => m.Key.All(v => v is not null))
            .Select(m => (IReadOnlyList<string>)[.. positions.Select(p => m.Key[p]!)])
            .ToList();
        var listed = result.Missing + result.Different + (job.Destination.Deletes != DeleteMode.Keep ? result.Extra : 0);
        return (keys, listed > wanted.Count ? $"{listed - wanted.Count} differing key(s) beyond the listed ones wait for the next verify --repair" : null);
    }
}
