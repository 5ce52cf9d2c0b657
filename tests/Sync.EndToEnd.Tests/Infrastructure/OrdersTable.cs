using Npgsql;

namespace Sync.EndToEnd.Tests.Infrastructure;

/// <summary>An orders-like table (about 150 bytes a row) on both sides, and how to compare them.</summary>
public static class OrdersTable
{
    public static async Task CreateAsync(string connectionString, string table)
    {
        await ExecuteAsync(connectionString, $"""
            CREATE TABLE {table} (
                id bigint PRIMARY KEY,
                customer_id integer NOT NULL,
                status text NOT NULL,
                amount numeric(12,2) NOT NULL,
                note text,
                created_at timestamptz NOT NULL,
                updated_at timestamptz NOT NULL)
            """);
    }

    /// <summary>Inserts ids first..first+count-1; all rows share one updated_at when <paramref name="sameTimestamp"/>.</summary>
    public static Task SeedAsync(string connectionString, string table, long first, int count, bool sameTimestamp = false) =>
        ExecuteAsync(connectionString, $"""
            INSERT INTO {table} (id, customer_id, status, amount, note, created_at, updated_at)
            SELECT g, (g % 5000)::int, (ARRAY['new','paid','shipped','cancelled'])[1 + g % 4],
                   round((random() * 1000)::numeric, 2), 'order note ' || md5(g::text),
                   now() - interval '30 days',
                   CASE WHEN $3 THEN now() ELSE now() - interval '1 day' + g * interval '1 microsecond' END
            FROM generate_series($1::bigint, $1::bigint + $2 - 1) g
            """, first, count, sameTimestamp);

    /// <summary>Touches <paramref name="count"/> existing rows (every n-th id) as an application update would.</summary>
    public static Task UpdateAsync(string connectionString, string table, int count, long total) =>
        ExecuteAsync(connectionString, $"""
            UPDATE {table} SET status = 'updated', amount = amount + 1, updated_at = clock_timestamp()
            WHERE id IN (SELECT 1 + (g * ($2 / $1)) FROM generate_series(0, $1 - 1) g)
            """, count, total);

    public static async Task<long> CountAsync(string connectionString, string table) =>
        Convert.ToInt64(await ScalarAsync(connectionString, $"SELECT count(*) FROM {table}"));

    /// <summary>A digest of every row's full text, in key order: equal digests, equal tables.</summary>
    public static async Task<string> DigestAsync(string connectionString, string table) =>
        (string)(await ScalarAsync(connectionString, $"SELECT coalesce(md5(string_agg(t::text, '|' ORDER BY id)), 'empty') FROM {table} t"))!;

    public static async Task<object?> ScalarAsync(string connectionString, string sql, params object[] parameters)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        }

        var value = await command.ExecuteScalarAsync();
        return value is DBNull ? null : value;
    }

    public static async Task ExecuteAsync(string connectionString, string sql, params object[] parameters)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        }

        await command.ExecuteNonQueryAsync();
    }

    public static string Job(string name, string table, int batchSize = 1000, string? extra = null, string sourceConnection = "source") =>
        SampleJobs.Orders(name, table, batchSize, extra, sourceConnection);
}
