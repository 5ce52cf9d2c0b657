using System.Globalization;
using Sync.Contracts.Jobs;
using YamlDotNet.RepresentationModel;

namespace Sync.Jobs;

/// <summary>Parses one YAML job file into a validated <see cref="JobSpec"/>, or every error in it.</summary>
public static class JobFile
{
    public const int DefaultBatchSize = 1000;
    public const int MinBatchSize = 100;
    public const int MaxBatchSize = 10_000;

    private static readonly string[] Keys = ["name", "schedule", "batch_size", "batch_bytes", "mode", "source", "destination", "columns", "retry", "filter", "lookups", "transform", "verify"];

    /// <param name="fileName">How errors name the file, e.g. <c>jobs/orders.yml</c>.</param>
    public static JobFileResult Parse(string yamlText, string fileName)
    {
        ArgumentNullException.ThrowIfNull(yamlText);
        ArgumentNullException.ThrowIfNull(fileName);

        var errors = new JobFileErrors(fileName);
        var root = YamlDocumentLoader.LoadMapping(yamlText, errors);
        if (root is null)
        {
            return JobFileResult.Invalid(errors.All);
        }

        if (root.Children.ContainsKey(new YamlScalarNode("streams")))
        {
            return StreamsFile.Parse(new YamlNodeReader(root, "", root.Start, errors, StreamsFile.Keys), errors, fileName);
        }

        var job = new YamlNodeReader(root, "", root.Start, errors, Keys);
        var nameValue = job.Scalar("name", "orders_to_reporting", required: true);
        var name = nameValue is { } n ? FieldRules.JobName(n, errors) : null;
        var schedule = ReadSchedule(job, errors);
        var batchSize = ReadBatchSize(job, errors);
        var batchBytes = ByteSize.ReadBatchBytes(job, errors);
        var mode = SyncMode.Incremental;
        var modeValue = job.Scalar("mode", "incremental");
        var modeValid = modeValue is not { } m || FieldRules.Choice(m, errors, Kinds.Modes, out mode);

        var source = SourceSection.Read(job, errors);
        var columns = ColumnsSection.Read(job, errors, source);
        if (modeValid && mode == SyncMode.FullRefresh && source?.Kind == SourceKind.Files && modeValue is { } fm)
        {
            // A files source skips files still being written and reads each file once: a full refresh
            // would take rows of a file it skipped for gone.
            errors.Add(fm.Mark, fm.Field, "full_refresh is not available for a files source: it skips files still being written, whose rows would count as deleted", "use incremental");
        }

        var destination = DestinationSection.Read(job, errors, source, columns, mode);
        var retry = RetrySection.Read(job, errors);
        var transform = columns is null ? null : TransformSection.Read(job, errors, source, columns);
        var verify = VerifySection.Read(job, errors, source?.Mode == SyncMode.Cdc ? SyncMode.Cdc : mode, destination?.Key ?? [], [.. (columns ?? []).Select(c => c.Target)], destination?.Kind);

        var nameAt = nameValue?.Mark ?? default;

        // Every null here was reported; the checks only convince the compiler.
        if (errors.Any || name is null || source?.ToSpec() is not { } sourceSpec || columns is null || destination is null || verify is null)
        {
            return JobFileResult.Invalid(errors.All, name, nameAt);
        }

        if (source.Mode == SyncMode.Cdc)
        {
            if (mode == SyncMode.FullRefresh && modeValue is { } fr)
            {
                errors.Add(fr.Mark, fr.Field, "full_refresh re-reads the table, a cdc source follows its changes: a job does one or the other", "remove mode: full_refresh (a cdc job starts with a full copy anyway), or remove mode: cdc under source:");
                return JobFileResult.Invalid(errors.All, name, nameAt);
            }

            mode = SyncMode.Cdc;
            if (transform?.Columns.FirstOrDefault(c => c.Expression is not null && destination.Key.Contains(c.Target)) is { } computedKey)
            {
                errors.Add(job.KeyMark("destination"), "destination.key", $"key column \"{computedKey.Target}\" is computed by an expression, but a cdc delete carries only the source row's key, which expressions are not evaluated on", "map the key columns straight from source columns (a cast is fine); compute other columns with expr");
                return JobFileResult.Invalid(errors.All, name, nameAt);
            }

            // A delete carries the source primary key and nothing else: a destination key read from other columns matches no row.
            var keySources = destination.Key.Select(k => columns.Count == 0 ? k : columns.FirstOrDefault(c => c.Target == k)?.Source).ToList();
            if (keySources.Any(s => s is null || !sourceSpec.PrimaryKey.Contains(s)))
            {
                var other = keySources.FirstOrDefault(s => s is not null && !sourceSpec.PrimaryKey.Contains(s));
                errors.Add(job.KeyMark("destination"), "destination.key", $"a cdc delete carries only the source primary key ({string.Join(", ", sourceSpec.PrimaryKey)}), but destination.key reads {(other is null ? "a column not mapped from it" : $"\"{other}\"")}, so deletes would match no row", "key the destination by the columns mapped from source.primary_key");
                return JobFileResult.Invalid(errors.All, name, nameAt);
            }
        }
        else if (schedule == CdcSourceRules.Continuous)
        {
            errors.Add(job.KeyMark("schedule"), "schedule", "continuous needs a change stream to follow", "add mode: cdc under source:, or use a cron schedule like \"*/15 * * * *\"");
            return JobFileResult.Invalid(errors.All, name, nameAt);
        }

        if (sourceSpec.RangeSize > 0 && destination.Kind == DestinationKind.S3)
        {
            // The run manifest lists the objects of one extraction; a ranged run has one per range.
            errors.Add(job.KeyMark("source"), "source.range_size", "an S3 destination's run manifest lists one extraction's objects, and a ranged load has one extraction per range", "remove range_size, or load into PostgreSQL or DuckDB");
            return JobFileResult.Invalid(errors.All, name, nameAt);
        }

        var spec = new JobSpec(name, sourceSpec, transform ?? new TransformSpec(columns), destination, batchSize, schedule, mode, retry, verify, batchBytes);
        if ((verify.AfterRun || verify.Schedule is not null) && VerifyRules.Refusal(spec) is { } refusal)
        {
            errors.Add(job.KeyMark("verify"), "verify", $"asks for verifications, but this job cannot be verified: {refusal}", "remove verify: (syncctl verify compares SQL on both sides, so only a mapping and casts between PostgreSQL tables can be checked)");
            return JobFileResult.Invalid(errors.All, name, nameAt);
        }

        return JobFileResult.Valid(spec, nameAt);
    }

    internal static string? ReadSchedule(YamlNodeReader job, JobFileErrors errors)
    {
        if (job.Scalar("schedule", "\"*/15 * * * *\"") is not { } schedule)
        {
            return null;
        }

        if (schedule.Value.Trim() == CdcSourceRules.Continuous)
        {
            return CdcSourceRules.Continuous;
        }

        if (CronSchedule.TryParse(schedule.Value, out var error))
        {
            return schedule.Value.Trim();
        }

        errors.Add(schedule.Mark, schedule.Field, $"must be a cron schedule like \"*/15 * * * *\" (got {schedule.Shown}): {error}", ScheduleHint.For(schedule.Value));
        return null;
    }

    internal static int ReadBatchSize(YamlNodeReader job, JobFileErrors errors)
    {
        if (job.Scalar("batch_size", DefaultBatchSize.ToString(CultureInfo.InvariantCulture)) is not { } batch)
        {
            return DefaultBatchSize;
        }

        var range = $"between {MinBatchSize} and {MaxBatchSize}";
        if (!int.TryParse(batch.Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var size))
        {
            errors.Add(batch.Mark, batch.Field, $"must be a whole number {range} (got {batch.Shown})", $"write a number of rows, e.g. batch_size: {DefaultBatchSize}");
        }
        else if (size is < MinBatchSize or > MaxBatchSize)
        {
            errors.Add(batch.Mark, batch.Field, $"must be {range} (got {size})", $"use {Math.Clamp(size, MinBatchSize, MaxBatchSize)}");
        }

        return size;
    }
}
