namespace Sync.EndToEnd.Tests.Infrastructure;

/// <summary>
/// What every cdc end-to-end test repeats, once: a deployment with short cdc runs (so a test spans
/// several runs and their hand-overs), cdc job files, waiting until the destination's digests equal
/// the source's (with a deadline, and what still differs when it passes), and the slots released on
/// dispose. A leftover slot would retain WAL on the shared server for ever, and keeps its database
/// from being dropped.
/// </summary>
public static class CdcDeployment
{
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(2);

    /// <summary>A deployment whose cdc runs last <paramref name="runDuration"/> (Cdc__RunDuration); not started yet.</summary>
    public static async Task<SyncDeployment> CreateAsync(string name, string runDuration = "00:00:03")
    {
        var sync = await SyncDeployment.CreateAsync(name);
        sync.SetEnvironment("Cdc__RunDuration", runDuration);
        return sync;
    }

    /// <summary>
    /// Writes <c>{fileName}</c>: a continuous cdc job from the source's <paramref name="table"/> to the destination's
    /// <paramref name="destinationTable"/> (default the same name); <paramref name="destination"/> adds keys to the
    /// destination section (e.g. <c>", deletes: delete"</c>).
    /// </summary>
    public static void WriteCdcJob(
        this SyncDeployment sync, string fileName, string name, string table, string? destinationTable = null, string key = "id", int batchSize = 200, string destination = "") =>
        sync.WriteJob(fileName, $$"""
            name: {{name}}
            schedule: continuous
            batch_size: {{batchSize}}
            source: { type: postgres, connection: source, table: public.{{table}}, mode: cdc, primary_key: [{{key}}] }
            destination: { type: postgres, connection: destination, table: public.{{destinationTable ?? table}}{{destination}} }
            """);

    /// <summary>Kills <paramref name="services"/> (default the Coordinator and the Extractor, which hold and make slots), then drops the source's slots no process holds.</summary>
    public static async Task ReleaseCdcSlotsAsync(this SyncDeployment sync, params string[] services)
    {
        foreach (var service in services is [] ? ["Coordinator", "Extractor"] : services)
        {
            await sync.KillServiceAsync(service);
        }

        await OrdersTable.ExecuteAsync(sync.Source, "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = current_database() AND NOT active");
    }

    /// <summary>
    /// SQL of a relation's digest: its row count and an md5 of its rows' text (<paramref name="row"/>, every column by default)
    /// in <paramref name="order"/>. <paramref name="relation"/> is a table name or a parenthesised query, aliased <c>t</c>.
    /// </summary>
    public static string Digest(string relation, string order = "t::text", string row = "t") =>
        $"SELECT count(*) || ' ' || coalesce(md5(string_agg({row}::text, '|' ORDER BY {order})), '') FROM {relation} t";

    /// <summary>
    /// Waits until every comparison's source digest equals its destination digest (or <paramref name="settled"/> says to stop
    /// waiting, e.g. a dead letter appeared); past two minutes fails with <paramref name="when"/>, each difference,
    /// <paramref name="diagnostics"/> and the services' logs.
    /// </summary>
    public static async Task WaitForEqualAsync(
        this SyncDeployment sync, string when, IReadOnlyList<DigestComparison> comparisons, Func<Task<bool>>? settled = null, Func<Task<string>>? diagnostics = null)
    {
        var deadline = DateTime.UtcNow + Deadline;
        while (true)
        {
            var differing = new List<string>();
            foreach (var comparison in comparisons)
            {
                var source = await DigestAsync(sync.Source, comparison.SourceDigest);
                var destination = await DigestAsync(sync.Destination, comparison.DestinationDigest);
                if (source != destination)
                {
                    differing.Add($"{comparison.Name}: {destination}, expected {source}");
                }
            }

            if (differing.Count == 0 || (settled is not null && await settled()))
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"After {when}:\n{string.Join('\n', differing)}{(diagnostics is null ? "" : await diagnostics())}\n{sync.Logs()}");
            }

            await Task.Delay(200);
        }
    }

    /// <summary>One table compared whole on both sides, by <see cref="Digest"/> in <paramref name="order"/>.</summary>
    public static Task WaitForEqualAsync(this SyncDeployment sync, string when, string table, string order = "t::text") =>
        sync.WaitForEqualAsync(when, [DigestComparison.Table(table, order)]);

    /// <summary>Waits until <paramref name="condition"/> holds; past two minutes fails with <paramref name="what"/>, <paramref name="diagnostics"/> and the services' logs.</summary>
    public static async Task WaitUntilAsync(this SyncDeployment sync, Func<Task<bool>> condition, string what, Func<Task<string>>? diagnostics = null)
    {
        var deadline = DateTime.UtcNow + Deadline;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"{what}: the condition did not hold in {Deadline.TotalMinutes} minutes.{(diagnostics is null ? "" : await diagnostics())}\n{sync.Logs()}");
            }

            await Task.Delay(200);
        }
    }

    // A destination table the Loader makes (destination.schema) is absent until the first batch
    // arrives, and a column it adds until the first change carrying it: not equal yet, rather than a failure of the wait.
    private static async Task<string> DigestAsync(string connectionString, string sql)
    {
        try
        {
            return (string)(await OrdersTable.ScalarAsync(connectionString, sql))!;
        }
        catch (Npgsql.PostgresException missing) when (missing.SqlState is Npgsql.PostgresErrorCodes.UndefinedTable or Npgsql.PostgresErrorCodes.UndefinedColumn)
        {
            return $"(no table yet: {missing.MessageText})";
        }
    }
}

/// <summary>What <see cref="CdcDeployment.WaitForEqualAsync(SyncDeployment, string, IReadOnlyList{DigestComparison}, Func{Task{bool}}?, Func{Task{string}}?)"/> compares: a digest query on the source and one on the destination.</summary>
public sealed record DigestComparison(string Name, string SourceDigest, string DestinationDigest)
{
    /// <summary>The same table on both sides.</summary>
    public static DigestComparison Table(string table, string order = "t::text", string row = "t") =>
        new(table, CdcDeployment.Digest(table, order, row), CdcDeployment.Digest(table, order, row));

    /// <summary>A source table and its copy under another name.</summary>
    public static DigestComparison Tables(string source, string destination, string order = "t::text") =>
        new(destination, CdcDeployment.Digest(source, order), CdcDeployment.Digest(destination, order));
}
