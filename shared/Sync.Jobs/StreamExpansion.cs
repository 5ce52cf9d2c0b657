using Sync.Contracts;
using Sync.Contracts.Jobs;

namespace Sync.Jobs;

/// <summary>The jobs a <see cref="StreamsJob"/> expands to, one per stream, or every reason it cannot run.</summary>
public sealed record StreamExpansionResult(IReadOnlyList<JobSpec> Jobs, IReadOnlyList<JobFileError> Errors)
{
    public bool IsValid => Errors.Count == 0;
}

/// <summary>
/// Expands a <see cref="StreamsJob"/> against the live source catalog: each table a stream entry
/// matches and no exclusion does becomes a job named <c>JOB.STREAM</c> with everything a job of one
/// table has (watermark, runs, dead letters, verify). Settings come from the job's defaults, then from
/// every pattern matching the table in file order, then from the entry naming it. A primary key not
/// given is the table's; a cursor not given is its <c>updated_at</c> column when that is a timestamptz.
/// Any error stops the whole job, so a run never covers part of what the file asks for without saying so.
/// </summary>
public static class StreamExpansion
{
    /// <summary>The column a cursor is taken from when none is given, if it is a <see cref="DefaultCursorType"/>.</summary>
    public const string DefaultCursor = "updated_at";

    /// <summary>
    /// Only timestamptz is taken unasked: a server-stamped timestamptz is bounded by the open-transaction
    /// rule, while a <c>timestamp</c> is often stamped by clients and needs a lookback chosen by someone.
    /// </summary>
    public const string DefaultCursorType = "timestamp with time zone";

    public static StreamExpansionResult Expand(StreamsJob job, IReadOnlyList<DiscoveredTable> catalog)
    {
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(catalog);
        var errors = new List<JobFileError>();
        void Error(StreamSelector at, string message, string fix) => errors.Add(new JobFileError(job.File, at.Line, at.Column, at.Field, message, fix));

        var jobs = new List<JobSpec>();
        var matched = new HashSet<StreamSelector>();
        foreach (var table in catalog.OrderBy(t => t.Schema, StringComparer.Ordinal).ThenBy(t => t.Name, StringComparer.Ordinal))
        {
            var entries = job.Streams.Where(s => s.Matches(table.Schema, table.Name)).ToList();
            if (entries.Count == 0)
            {
                continue;
            }

            matched.UnionWith(entries);
            var exact = entries.FirstOrDefault(e => !e.IsPattern);
            if (job.Excluded.FirstOrDefault(x => x.Matches(table.Schema, table.Name)) is { } exclusion)
            {
                if (exact is not null)
                {
                    Error(exact, $"names {table.QualifiedName}, which {exclusion.Field} ({exclusion.Text}) leaves out", $"remove {table.QualifiedName} from streams: or narrow exclude:");
                }

                continue;
            }

            var settings = entries.Where(e => e.IsPattern).Append(exact).OfType<StreamSelector>().Aggregate(job.Defaults, (s, e) => s.Over(e.Settings));
            var at = exact ?? entries[^1];
            if (Resolve(job, table, settings, at, Error) is { } spec)
            {
                jobs.Add(spec);
            }
        }

        foreach (var entry in job.Streams.Where(s => !matched.Contains(s)))
        {
            Error(entry, entry.IsPattern
                    ? $"{entry.Text} matches no table of schema {entry.Schema} in connection \"{job.SourceConnection}\""
                    : $"table {entry.Text} does not exist in connection \"{job.SourceConnection}\"",
                "check the name against the source (syncctl discover lists its tables), or remove the entry");
        }

        foreach (var group in jobs.GroupBy(j => j.Name, StringComparer.Ordinal).Where(g => g.Count() > 1))
        {
            var at = job.Streams[0];
            errors.Add(new JobFileError(job.File, at.Line, at.Column, at.Field,
                $"tables {string.Join(" and ", group.Select(j => j.Source.Table))} would both be stream \"{group.Key}\"",
                "give one of them an entry of its own with name: (- table: other.orders with name: other_orders)"));
        }

        foreach (var group in jobs.GroupBy(j => j.Destination.Table, StringComparer.Ordinal).Where(g => g.Count() > 1))
        {
            var at = job.Streams[0];
            errors.Add(new JobFileError(job.File, at.Line, at.Column, at.Field,
                $"streams {string.Join(" and ", group.Select(j => j.Name))} would all load into {group.Key}",
                "give each of them a destination table of its own with destination_table:"));
        }

        if (errors.Count > 0)
        {
            return new StreamExpansionResult([], errors);
        }

        return job.Defaults.Mode == SyncMode.Cdc ? new StreamExpansionResult([CdcJob(job, jobs)], []) : new StreamExpansionResult(jobs, []);
    }

    /// <summary>
    /// A cdc streams job runs as one job of its own name: one replication slot, publication and LSN
    /// watermark for all its tables (issue 18), its streams carried in <see cref="JobSpec.Streams"/>.
    /// Its own source and destination name only the connections; each batch names its stream's table.
    /// </summary>
    private static JobSpec CdcJob(StreamsJob job, IReadOnlyList<JobSpec> streams) => new(
        job.Name,
        new SourceSpec(SourceKind.Postgres, job.SourceConnection, string.Empty, string.Empty, []),
        new TransformSpec([]),
        new DestinationSpec(DestinationKind.Postgres, job.DestinationConnection, string.Empty, [], ConflictStrategy.SourceWins, DeleteMode.Delete),
        job.Defaults.BatchSize ?? JobFile.DefaultBatchSize,
        job.Schedule,
        SyncMode.Cdc,
        job.Retry,
        VerifySpec.OnRequest,
        job.BatchBytes,
        streams);

    private static JobSpec? Resolve(StreamsJob job, DiscoveredTable table, StreamSettings settings, StreamSelector at, Action<StreamSelector, string, string> error)
    {
        var own = at.IsPattern
            ? $"add an entry of its own (- table: {table.QualifiedName}) with"
            : "add";
        var valid = true;
        if (!SqlIdentifier.IsValid(table.Schema) || !SqlIdentifier.IsValid(table.Name))
        {
            error(at, $"table \"{table.Schema}\".\"{table.Name}\" has a name Sync does not quote (letters, digits, _ and $, not starting with a digit)", "leave it out with exclude:, or rename the table");
            return null;
        }

        if (table.Columns.FirstOrDefault(c => !SqlIdentifier.IsValid(c.Name)) is { } column)
        {
            error(at, $"column \"{column.Name}\" of {table.QualifiedName} has a name Sync does not quote (letters, digits, _ and $, not starting with a digit)", $"leave {table.QualifiedName} out with exclude:, or rename the column");
            return null;
        }

        var primaryKey = settings.PrimaryKey ?? table.PrimaryKey;
        if (primaryKey.Count == 0)
        {
            error(at, $"{table.QualifiedName} has no primary key, and none is given", $"{own} primary_key: [column, …] naming columns whose values are unique, or leave it out with exclude:");
            valid = false;
        }
        else if (primaryKey.FirstOrDefault(k => table.Columns.All(c => c.Name != k)) is { } missingKey)
        {
            error(at, $"primary_key column \"{missingKey}\" is not a column of {table.QualifiedName}", $"{own} primary_key: naming its columns ({Columns(table)})");
            valid = false;
        }

        // A cdc stream follows its changes in commit order and needs no cursor; one given is checked (latest-wins compares it).
        var cdc = job.Defaults.Mode == SyncMode.Cdc;
        var cursor = settings.Cursor ?? (cdc ? string.Empty : table.Columns.FirstOrDefault(c => c.Name == DefaultCursor && c.Type == DefaultCursorType)?.Name);
        if (cursor is null)
        {
            error(at, $"{table.QualifiedName} has no cursor: none is given and it has no {DefaultCursor} timestamptz column", $"{own} cursor: naming a column that grows with every change ({Columns(table)}), or leave it out with exclude:");
            valid = false;
        }
        else if (cursor.Length > 0 && table.Columns.All(c => c.Name != cursor))
        {
            error(at, $"cursor column \"{cursor}\" is not a column of {table.QualifiedName}", $"{own} cursor: naming one of its columns ({Columns(table)}), or leave it out with exclude:");
            valid = false;
        }

        if (cdc && cursor is "" && settings.Conflict == ConflictStrategy.LatestWins)
        {
            error(at, $"latest-wins compares the cursor column, and cdc stream {table.QualifiedName} has none", $"use source-wins (the default for cdc: changes arrive in commit order), or {own} cursor:");
            valid = false;
        }

        var stream = settings.Name ?? table.Name;
        if (!StreamsFile.IsStreamName(stream))
        {
            error(at, $"{table.QualifiedName} gives stream name \"{stream}\", which is not lower-case letters, digits, _ and -", $"{own} name: {Suggest(stream)}");
            valid = false;
        }

        if (!valid || cursor is null)
        {
            return null;
        }

        var mode = settings.Mode ?? SyncMode.Incremental;
        var destinationTable = settings.DestinationTable ?? $"{job.DestinationSchema ?? table.Schema}.{table.Name}";
        var source = new SourceSpec(SourceKind.Postgres, job.SourceConnection, table.QualifiedName, cursor, primaryKey, settings.Lookback ?? TimeSpan.Zero);
        var destination = cdc
            ? new DestinationSpec(DestinationKind.Postgres, job.DestinationConnection, destinationTable, primaryKey, settings.Conflict ?? ConflictStrategy.SourceWins, settings.Deletes ?? DeleteMode.Delete)
            : new DestinationSpec(DestinationKind.Postgres, job.DestinationConnection, destinationTable, primaryKey, settings.Conflict ?? ConflictStrategy.LatestWins, settings.Deletes ?? DeleteMode.Keep);
        return new JobSpec(job.StreamJobName(stream), source, new TransformSpec([]), destination, settings.BatchSize ?? JobFile.DefaultBatchSize, null, mode, job.Retry, VerifySpec.OnRequest, job.BatchBytes);
    }

    private static string Columns(DiscoveredTable table) => string.Join(", ", table.Columns.Select(c => $"{c.Name} {c.Type}"));

    private static string Suggest(string name)
    {
        var lower = new string([.. name.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' ? c : '_')]);
        return lower.Length > 0 && char.IsAsciiLetter(lower[0]) ? lower : $"t_{lower}";
    }
}
