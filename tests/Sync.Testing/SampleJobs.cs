namespace Sync.Testing;

/// <summary>
/// Job files the test projects share: the orders job in the shape of jobs/orders.yml (PostgreSQL to
/// PostgreSQL, incremental by <c>updated_at</c>, keyed by <c>id</c>), so a change to the job-file
/// format is made in one place.
/// </summary>
public static class SampleJobs
{
    /// <summary>
    /// The orders job named <paramref name="name"/> over <c>public.{table}</c> on both sides; <paramref name="batchSize"/>
    /// null leaves the default, <paramref name="extra"/> is appended as top-level YAML.
    /// </summary>
    public static string Orders(string name, string table = "orders", int? batchSize = null, string? extra = null, string sourceConnection = "source") =>
        $"""
        name: {name}{(batchSize is { } size ? $"\nbatch_size: {size}" : "")}
        source:
          type: postgres
          connection: {sourceConnection}
          table: public.{table}
          cursor: updated_at
          primary_key: [id]
        destination:
          type: postgres
          connection: destination
          table: public.{table}
          key: [id]
        {extra}
        """;
}
