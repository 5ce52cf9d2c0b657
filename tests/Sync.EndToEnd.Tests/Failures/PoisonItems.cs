using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Sync.EndToEnd.Tests.Infrastructure;

namespace Sync.EndToEnd.Tests.Failures;

/// <summary>
/// An items table whose source holds poison rows of three kinds, and a job that casts a text
/// column to integer: rows whose code is not a number fail the Transformer's cast, rows whose
/// label is too long for varchar(12) and rows whose qty breaks a CHECK fail in the destination.
/// Six batches of 200 (BatchSeq 1–6); the last (ids 1001–1200) has no poison.
/// </summary>
internal static class PoisonItems
{
    public const string Job = "items";
    public const string Table = "items";
    public const int Rows = 1200;

    public static readonly long[] BadCast = [17, 450, 451];
    public static readonly long[] TooLong = [233, 777];
    public static readonly long[] BreaksCheck = [600, 999];
    public static readonly long[] AllBad = [.. BadCast, .. TooLong, .. BreaksCheck];

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static string JobYaml(bool cast) => $$"""
        name: {{Job}}
        batch_size: 200
        source:
          type: postgres
          connection: source
          table: public.{{Table}}
          cursor: updated_at
          primary_key: [id]
        destination:
          type: postgres
          connection: destination
          table: public.{{Table}}
          # The destination's varchar(12) label is one of the poisons: under the default evolve a text
          # column that a varchar(n) cannot hold is widened to text, so this job keeps the table as it is.
          schema: discard_value
        columns:
          id: id
          code: {{(cast ? "{ source: code, cast: integer }" : "code")}}
          label: label
          qty: qty
          updated_at: updated_at
        """;

    public static async Task<SyncDeployment> CreateAsync(string name)
    {
        var deployment = await SyncDeployment.CreateAsync(name);
        await OrdersTable.ExecuteAsync(deployment.Source, $"""
            CREATE TABLE {Table} (id bigint PRIMARY KEY, code text NOT NULL, label text NOT NULL, qty integer NOT NULL, updated_at timestamptz NOT NULL);
            INSERT INTO {Table}
            SELECT g, g::text, 'item ' || g, g % 50, now() - interval '1 day' + g * interval '1 microsecond' FROM generate_series(1, {Rows}) g;
            UPDATE {Table} SET code = 'x' || id WHERE id IN ({string.Join(", ", BadCast)});
            UPDATE {Table} SET label = repeat('long', 5) WHERE id IN ({string.Join(", ", TooLong)});
            UPDATE {Table} SET qty = -1 WHERE id IN ({string.Join(", ", BreaksCheck)});
            """);
        await OrdersTable.ExecuteAsync(deployment.Destination, $"""
            CREATE TABLE {Table} (
                id bigint PRIMARY KEY, code integer, label varchar(12), qty integer CONSTRAINT qty_not_negative CHECK (qty >= 0), updated_at timestamptz);
            """);
        deployment.WriteJob("items.yml", JobYaml(cast: true));
        return deployment;
    }

    /// <summary>A digest of the rows' text, in id order, leaving out <paramref name="except"/>.</summary>
    public static async Task<string> DigestAsync(string connectionString, params long[] except) =>
        (string)(await OrdersTable.ScalarAsync(connectionString, $"""
            SELECT coalesce(md5(string_agg(concat_ws(',', id, code::text, label, qty, updated_at), '|' ORDER BY id)), 'empty')
            FROM {Table} WHERE NOT id = ANY($1)
            """, except))!;

    public static async Task<List<DeadLetterResult>> DeadLettersAsync(SyncDeployment deployment, string query = "job=items")
    {
        var letters = await deployment.Http.GetFromJsonAsync<List<DeadLetterResult>>($"/api/dead-letters?{query}", Json);
        return letters!;
    }

    /// <summary>Asks for a replay of the job's pending dead letters; the run's id, or null when nothing was pending.</summary>
    public static async Task<Guid?> ReplayAsync(SyncDeployment deployment)
    {
        using var response = await deployment.Http.PostAsJsonAsync($"/api/jobs/{Job}/dead-letters/replay", new { ids = Array.Empty<long>() });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode is HttpStatusCode.Accepted or HttpStatusCode.OK, $"{(int)response.StatusCode}: {body}");
        return JsonSerializer.Deserialize<ReplayResult>(body, Json)!.RunId;
    }

    public static async Task<long> ScalarLongAsync(string connectionString, string sql, params object[] parameters) =>
        Convert.ToInt64(await OrdersTable.ScalarAsync(connectionString, sql, parameters));
}

internal sealed record ReplayResult(Guid? RunId, string JobName, int DeadLetters);

internal sealed record DeadLetterResult(
    long Id,
    string Kind,
    string JobName,
    Guid RunId,
    int BatchSeq,
    int RowIndex,
    string Stage,
    string Error,
    string? Queue,
    JsonElement? Record,
    int Attempts,
    string Status,
    Guid? ReplayRunId)
{
    public long RecordId => long.Parse(Record!.Value.GetProperty("id").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
}
