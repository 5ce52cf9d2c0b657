using System.Text.RegularExpressions;
using Sync.Contracts.Jobs;
using YamlDotNet.Core;

namespace Sync.Jobs;

/// <summary>
/// Reads a job file with <c>streams:</c> (<see cref="StreamsJob"/>): what can be checked without the
/// source is checked here; the tables, keys and cursors are resolved by <see cref="StreamExpansion"/>.
/// </summary>
internal static partial class StreamsFile
{
    // Settings of a job over one table; a streams job maps every table under its own column names.
    private static readonly string[] OneTableKeys = ["columns", "filter", "lookups", "transform", "verify"];

    public static readonly string[] Keys = ["name", "schedule", "batch_size", "batch_bytes", "mode", "source", "destination", "streams", "exclude", "retry", .. OneTableKeys];

    private static readonly string[] SourceKeys = ["type", "connection", "cursor", "primary_key", "lookback", "mode", "table", "query", "range_size"];

    private static readonly string[] DestinationKeys = ["type", "connection", "schema", "conflict", "deletes", "table", "key"];

    private static readonly string[] StreamKeys = ["table", "name", "cursor", "primary_key", "mode", "batch_size", "conflict", "deletes", "lookback", "destination_table"];

    private static readonly IReadOnlyDictionary<string, DeleteMode> Deletes = new Dictionary<string, DeleteMode>(StringComparer.Ordinal)
    {
        ["keep"] = DeleteMode.Keep,
        ["delete"] = DeleteMode.Delete,
    };

    private const string CdcKeepsNoRows = "a cdc job applies the deletes it streams: keep is for full refreshes";

    private const string CdcFix = "write mode: cdc at the top of the file: one replication slot follows every table of the job; or give this table a cdc job file of its own and leave it out of this job with exclude:";

    // schema.table where the table part may hold * (any run of characters); no * in the schema, which the catalog request names.
    [GeneratedRegex(@"^(?:(?<schema>[A-Za-z_][A-Za-z0-9_$]{0,62})\.)?(?<table>[A-Za-z0-9_$*]{1,63})\z", RegexOptions.CultureInvariant)]
    private static partial Regex SelectorPattern();

    public static JobFileResult Parse(YamlNodeReader job, JobFileErrors errors, string file)
    {
        var nameValue = job.Scalar("name", "shop", required: true);
        var name = nameValue is { } n ? FieldRules.JobName(n, errors) : null;
        var nameAt = nameValue?.Mark ?? default;
        var schedule = JobFile.ReadSchedule(job, errors);
        var batchSize = job.Has("batch_size") ? JobFile.ReadBatchSize(job, errors) : (int?)null;
        var batchBytes = ByteSize.ReadBatchBytes(job, errors);
        var mode = ReadMode(job, errors, whole: true);
        if (schedule == CdcSourceRules.Continuous && mode != SyncMode.Cdc)
        {
            errors.Add(job.KeyMark("schedule"), "schedule", "continuous needs a change stream to follow, and this streams job reads by cursor", "use a cron schedule like \"*/15 * * * *\", or mode: cdc at the top of the file");
        }

        foreach (var key in OneTableKeys.Where(job.Has))
        {
            errors.Add(job.KeyMark(key), key, "applies to one table, but this job names its tables under streams:, each loaded under its own column names",
                "remove it, or give that table a job file of its own and leave it out of this one with exclude:");
        }

        var source = ReadSource(job, errors);
        var destination = ReadDestination(job, errors, out var schema);
        var retry = RetrySection.Read(job, errors);
        var defaults = new StreamSettings(mode, source.Cursor, source.PrimaryKey, batchSize, destination.Conflict, destination.Deletes, source.Lookback);
        if (mode == SyncMode.Cdc && destination.Deletes == DeleteMode.Keep)
        {
            errors.Add(job.KeyMark("destination"), "destination.deletes", CdcKeepsNoRows, "use deletes: delete, or leave deletes: out");
        }

        if (mode == SyncMode.Cdc && source.Lookback is not null)
        {
            errors.Add(job.KeyMark("source"), "source.lookback", "is not used by a cdc streams job, which follows every change in commit order", "remove lookback:");
        }

        var streams = ReadStreams(job, errors, defaults);
        var excluded = ReadExcluded(job, errors);

        if (errors.Any || name is null || source.Connection is null || destination.Connection is null || streams is null)
        {
            return JobFileResult.Invalid(errors.All, name, nameAt);
        }

        var streamsJob = new StreamsJob(name, file, schedule, batchBytes, retry, source.Connection, destination.Connection, schema, defaults, streams, excluded);
        return JobFileResult.ValidStreams(streamsJob, nameAt);
    }

    /// <param name="whole">The mode at the top of the file, the only place mode: cdc is taken.</param>
    private static SyncMode? ReadMode(YamlNodeReader reader, JobFileErrors errors, bool whole = false)
    {
        if (reader.Scalar("mode", "incremental") is not { } value)
        {
            return null;
        }

        if (value.Value == "cdc")
        {
            if (whole)
            {
                return SyncMode.Cdc;
            }

            RefuseCdc(value, errors);
            return null;
        }

        return FieldRules.Choice(value, errors, Kinds.Modes, out var mode) ? mode : null;
    }

    // A cdc streams job reads all its tables through one replication slot, so cdc is the whole job's
    // mode: one stream cannot follow a slot the others do not read.
    private static void RefuseCdc(YamlScalar value, JobFileErrors errors) =>
        errors.Add(value.Mark, value.Field, "mode: cdc applies to a whole streams job (one replication slot follows all its tables), not to one stream or to source:", CdcFix);

    private static (string? Connection, string? Cursor, IReadOnlyList<string>? PrimaryKey, TimeSpan? Lookback) ReadSource(YamlNodeReader job, JobFileErrors errors)
    {
        var source = job.Mapping("source", SourceKeys, required: true);
        if (source is null)
        {
            return default;
        }

        if (source.Scalar("type", "postgres", required: true) is { } type && type.Value != "postgres")
        {
            errors.Add(type.Mark, type.Field, $"must be postgres with streams: (got {type.Shown}): streams are the tables of a PostgreSQL source's catalog",
                "use type: postgres, or remove streams: and name one source in a job file of its own");
        }

        foreach (var key in new[] { "table", "query" }.Where(source.Has))
        {
            errors.Add(source.KeyMark(key), source.FieldOf(key), "is not used with streams:, which names the tables this job reads",
                "list the table under streams: (- table: public.orders, with its own settings if needed), and remove it here");
        }

        if (source.Has("range_size"))
        {
            errors.Add(source.KeyMark("range_size"), source.FieldOf("range_size"), "is not used with streams: each stream's table is read whole (a cdc streams job copies every table in its slot's snapshot)",
                "remove range_size, or give the large table a job file of its own with range_size");
        }

        if (source.Scalar("mode", "incremental") is { } sourceMode)
        {
            if (sourceMode.Value == "cdc")
            {
                RefuseCdc(sourceMode, errors);
            }
            else
            {
                errors.Add(sourceMode.Mark, sourceMode.Field, $"is not used with streams: (got {sourceMode.Shown})", "write the mode at the top of the file (mode: incremental or full_refresh), or under one stream");
            }
        }

        var connection = source.Scalar("connection", "source_db", required: true) is { } name ? ConnectionRules.Name(name, errors, "source") : null;
        var cursor = source.Scalar("cursor", "updated_at") is { } c ? FieldRules.Identifier(c, errors, "a column name like updated_at") : null;
        var primaryKey = source.Has("primary_key") ? FieldRules.ColumnList(source.ScalarList("primary_key", "id"), errors) : null;
        var lookback = source.Scalar("lookback", "10m") is { } l ? FieldRules.Duration(l, errors, SourceSection.MaxLookback, "10m") : null;
        return (connection, cursor, primaryKey, lookback);
    }

    private static (string? Connection, ConflictStrategy? Conflict, DeleteMode? Deletes) ReadDestination(YamlNodeReader job, JobFileErrors errors, out string? schema)
    {
        schema = null;
        var destination = job.Mapping("destination", DestinationKeys, required: true);
        if (destination is null)
        {
            return default;
        }

        if (destination.Scalar("type", "postgres", required: true) is { } type && type.Value != "postgres")
        {
            errors.Add(type.Mark, type.Field, $"must be postgres with streams: (got {type.Shown})", "use type: postgres, or remove streams: and load each table in a job file of its own");
        }

        if (destination.Has("table"))
        {
            errors.Add(destination.KeyMark("table"), destination.FieldOf("table"), "is not used with streams:: each stream loads into the table of its own name in destination.schema",
                "remove it; name another destination table under one stream with destination_table:");
        }

        if (destination.Has("key"))
        {
            errors.Add(destination.KeyMark("key"), destination.FieldOf("key"), "is not used with streams:: each stream's destination key is its primary key",
                "remove it; give a stream's key under that stream with primary_key:");
        }

        var connection = destination.Scalar("connection", "destination_db", required: true) is { } name ? ConnectionRules.Name(name, errors, "destination") : null;
        schema = destination.Scalar("schema", "public") is { } s ? FieldRules.Identifier(s, errors, "a schema name like public") : null;
        var conflict = ReadConflict(destination, errors);
        var deletes = ReadDeletes(destination, errors);
        return (connection, conflict, deletes);
    }

    private static ConflictStrategy? ReadConflict(YamlNodeReader reader, JobFileErrors errors) =>
        reader.Scalar("conflict", "latest-wins") is { } c && FieldRules.Choice(c, errors, Kinds.Conflicts, out var conflict) ? conflict : null;

    private static DeleteMode? ReadDeletes(YamlNodeReader reader, JobFileErrors errors) =>
        reader.Scalar("deletes", "keep") is { } d && FieldRules.Choice(d, errors, Deletes, out var deletes) ? deletes : null;

    private static List<StreamSelector>? ReadStreams(YamlNodeReader job, JobFileErrors errors, StreamSettings defaults)
    {
        var entries = job.MixedList("streams", StreamKeys, "public.*", required: true);
        if (entries is null)
        {
            return null;
        }

        var streams = new List<StreamSelector>();
        foreach (var (value, options, at, field) in entries)
        {
            var table = value ?? options?.Scalar("table", "public.orders", required: true);
            if (table is not { } t || Selector(t, errors) is not { } selector)
            {
                continue;
            }

            var settings = options is null ? new StreamSettings() : ReadStreamSettings(options, errors, selector);
            var stream = new StreamSelector(selector.Schema, selector.Table, settings, field, (int)at.Line, (int)at.Column);
            if (streams.FirstOrDefault(s => !s.IsPattern && !stream.IsPattern && s.Text == stream.Text) is { } twice)
            {
                errors.Add(at, field, $"names {stream.Text} again (also {twice.Field})", "name each table once; put all of its settings in one entry");
                continue;
            }

            var effective = defaults.Over(settings);
            if (defaults.Mode == SyncMode.Cdc && options is not null && CdcRefusal(options, settings) is { } refused)
            {
                errors.Add(options.KeyMark(refused), options.FieldOf(refused), "is not used by a cdc streams job, which follows every change in commit order", $"remove {refused}:");
            }
            else if (defaults.Mode == SyncMode.Cdc && settings.Deletes == DeleteMode.Keep)
            {
                errors.Add(at, field, CdcKeepsNoRows, "use deletes: delete, or leave deletes: out");
            }
            else if (defaults.Mode != SyncMode.Cdc && effective.Deletes == DeleteMode.Delete && effective.Mode != SyncMode.FullRefresh)
            {
                errors.Add(at, field, "deletes: delete needs mode: full_refresh, which reads every source row and so finds the ones gone",
                    "add mode: full_refresh (here or at the top of the file), or use deletes: keep");
            }

            streams.Add(stream);
        }

        return streams;
    }

    // What a stream of a cdc job does not take: a look-back (changes come once, in commit order) and a
    // mode of its own (the slot is the job's; mode: cdc there is refused as it is read).
    private static string? CdcRefusal(YamlNodeReader options, StreamSettings settings) =>
        options.Has("lookback") ? "lookback" : settings.Mode is not null ? "mode" : null;

    private static StreamSettings ReadStreamSettings(YamlNodeReader options, JobFileErrors errors, (string Schema, string Table) selector)
    {
        var pattern = selector.Table.Contains('*', StringComparison.Ordinal);
        foreach (var key in new[] { "name", "destination_table" }.Where(k => pattern && options.Has(k)))
        {
            errors.Add(options.KeyMark(key), options.FieldOf(key), $"names one table, but table: {selector.Schema}.{selector.Table} is a pattern", "remove it, or give it on an entry naming one table");
        }

        var name = options.Scalar("name", "orders") is { } n ? StreamName(n, errors) : null;
        var cursor = options.Scalar("cursor", "updated_at") is { } c ? FieldRules.Identifier(c, errors, "a column name like updated_at") : null;
        var primaryKey = options.Has("primary_key") ? FieldRules.ColumnList(options.ScalarList("primary_key", "id"), errors) : null;
        var batchSize = options.Has("batch_size") ? JobFile.ReadBatchSize(options, errors) : (int?)null;
        var lookback = options.Scalar("lookback", "10m") is { } l ? FieldRules.Duration(l, errors, SourceSection.MaxLookback, "10m") : null;
        var destinationTable = options.Scalar("destination_table", "public.orders_copy") is { } d ? FieldRules.Table(d, errors) : null;
        return new StreamSettings(ReadMode(options, errors), cursor, primaryKey, batchSize, ReadConflict(options, errors), ReadDeletes(options, errors), lookback, destinationTable, name);
    }

    private static (string Schema, string Table)? Selector(YamlScalar value, JobFileErrors errors)
    {
        var match = SelectorPattern().Match(value.Value);
        if (!match.Success || match.Groups["table"].Value.Trim('*').Contains("**", StringComparison.Ordinal)
            || (!match.Groups["table"].Value.Contains('*', StringComparison.Ordinal) && !SqlIdentifier.IsValid(match.Groups["table"].Value)))
        {
            errors.Add(value.Mark, value.Field, $"must be a table like public.orders or a pattern like public.* (got {value.Shown})",
                "write schema.table; * in the table part matches any run of characters (public.order_*); the schema is written out");
            return null;
        }

        var schema = match.Groups["schema"].Success ? match.Groups["schema"].Value : "public";
        return (schema, match.Groups["table"].Value);
    }

    private static List<StreamSelector> ReadExcluded(YamlNodeReader job, JobFileErrors errors)
    {
        var items = job.ScalarList("exclude", "public.audit_log") ?? [];
        return items
            .Select(item => (Item: item, Selector: Selector(item, errors)))
            .Where(x => x.Selector is not null)
            .Select(x => new StreamSelector(x.Selector!.Value.Schema, x.Selector.Value.Table, new StreamSettings(), x.Item.Field, (int)x.Item.Mark.Line, (int)x.Item.Mark.Column))
            .ToList();
    }

    /// <summary>A stream name as a job name takes it after the dot: lower-case letters, digits, _ and -.</summary>
    internal static bool IsStreamName(string name) => StreamNamePattern().IsMatch(name);

    [GeneratedRegex(@"^[a-z][a-z0-9_-]{0,62}\z", RegexOptions.CultureInvariant)]
    private static partial Regex StreamNamePattern();

    private static string? StreamName(YamlScalar name, JobFileErrors errors)
    {
        if (IsStreamName(name.Value))
        {
            return name.Value;
        }

        errors.Add(name.Mark, name.Field, $"must be a stream name like orders (got {name.Shown})", "use lower-case letters, digits, _ and -, starting with a letter");
        return null;
    }
}
