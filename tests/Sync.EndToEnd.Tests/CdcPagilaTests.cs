using System.Globalization;
using Npgsql;
using Sync.EndToEnd.Tests.Infrastructure;

namespace Sync.EndToEnd.Tests;

/// <summary>
/// The "done when" of issue 14: a Pagila-like schema (a domain, an enum, text[], tsvector, numeric,
/// smallint, a key of a domain type, a composite key, foreign keys, and payments partitioned by month) is followed table by
/// table, one cdc job per table and no <c>columns:</c>, and every destination table equals its source
/// after the initial copy and again after concurrent churn from three writers: inserts, updates
/// (payments moved across partitions among them), deletes, rollbacks, multi-table transactions and
/// transactions held open for seconds. The destination has the same tables without foreign keys
/// (each table is its own job, so one table's changes may land before another's) and its types get
/// other OIDs than the source's.
/// </summary>
public sealed class CdcPagilaTests : IAsyncLifetime
{
    internal const string Types = """
        CREATE DOMAIN year AS integer CONSTRAINT year_check CHECK (VALUE >= 1901 AND VALUE <= 2155);
        CREATE TYPE mpaa_rating AS ENUM ('G', 'PG', 'PG-13', 'R', 'NC-17');
        CREATE DOMAIN category_key AS integer CONSTRAINT category_key_check CHECK (VALUE > 0);
        CREATE SEQUENCE category_key_seq;
        """;

    // Unlike Pagila, category is keyed by a domain (an id domain over integer, carried as its base type).
    // {0}: the key columns' type, serial in the source, integer in the destination; {1}…{5}: the foreign keys, {6}: category's key default (source only).
    private const string Tables = """
        CREATE TABLE actor (actor_id {0} PRIMARY KEY, first_name text NOT NULL, last_name text NOT NULL, last_update timestamptz NOT NULL DEFAULT now());
        CREATE TABLE category (category_id category_key {6} PRIMARY KEY, name text NOT NULL, last_update timestamptz NOT NULL DEFAULT now());
        CREATE TABLE language (language_id {0} PRIMARY KEY, name character(20) NOT NULL, last_update timestamptz NOT NULL DEFAULT now());
        CREATE TABLE film (
            film_id {0} PRIMARY KEY, title text NOT NULL, description text, release_year year,
            language_id integer NOT NULL {1}, original_language_id integer {1},
            rental_duration smallint NOT NULL DEFAULT 3, rental_rate numeric(4,2) NOT NULL DEFAULT 4.99, length smallint,
            replacement_cost numeric(5,2) NOT NULL DEFAULT 19.99, rating mpaa_rating DEFAULT 'G',
            last_update timestamptz NOT NULL DEFAULT now(), special_features text[], fulltext tsvector NOT NULL);
        CREATE TABLE film_actor (
            actor_id integer NOT NULL {2}, film_id integer NOT NULL {3}, last_update timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (actor_id, film_id));
        CREATE TABLE customer (
            customer_id {0} PRIMARY KEY, store_id smallint NOT NULL, first_name text NOT NULL, last_name text NOT NULL, email text,
            address_id smallint NOT NULL, activebool boolean NOT NULL DEFAULT true, create_date date NOT NULL DEFAULT current_date,
            last_update timestamptz DEFAULT now(), active integer);
        CREATE TABLE rental (
            rental_id {0} PRIMARY KEY, rental_date timestamptz NOT NULL, inventory_id integer NOT NULL,
            customer_id integer NOT NULL {4}, return_date timestamptz, staff_id smallint NOT NULL,
            last_update timestamptz NOT NULL DEFAULT now());
        CREATE TABLE payment (
            payment_id {0} NOT NULL, customer_id integer NOT NULL {4}, staff_id smallint NOT NULL,
            rental_id integer NOT NULL {5}, amount numeric(5,2) NOT NULL, payment_date timestamptz NOT NULL,
            PRIMARY KEY (payment_date, payment_id)) PARTITION BY RANGE (payment_date);
        CREATE TABLE payment_p2022_01 PARTITION OF payment FOR VALUES FROM ('2022-01-01 00:00:00+00') TO ('2022-02-01 00:00:00+00');
        CREATE TABLE payment_p2022_02 PARTITION OF payment FOR VALUES FROM ('2022-02-01 00:00:00+00') TO ('2022-03-01 00:00:00+00');
        CREATE TABLE payment_p2022_03 PARTITION OF payment FOR VALUES FROM ('2022-03-01 00:00:00+00') TO ('2022-04-01 00:00:00+00');
        CREATE TABLE payment_p2022_04 PARTITION OF payment FOR VALUES FROM ('2022-04-01 00:00:00+00') TO ('2022-05-01 00:00:00+00');
        CREATE TABLE payment_p2022_05 PARTITION OF payment FOR VALUES FROM ('2022-05-01 00:00:00+00') TO ('2022-06-01 00:00:00+00');
        CREATE TABLE payment_p2022_06 PARTITION OF payment FOR VALUES FROM ('2022-06-01 00:00:00+00') TO ('2022-07-01 00:00:00+00');
        """;

    internal const string Seed = """
        INSERT INTO language (name) SELECT unnest(ARRAY['English', 'Italian', 'Japanese', 'Mandarin', 'French', 'German']);
        INSERT INTO category (name) SELECT 'Category ' || g FROM generate_series(1, 16) g;
        INSERT INTO actor (first_name, last_name) SELECT 'FIRST' || g, 'LAST' || g FROM generate_series(1, 200) g;
        INSERT INTO film (title, description, release_year, language_id, original_language_id, rental_duration, rental_rate, length,
                          replacement_cost, rating, special_features, fulltext)
        SELECT 'FILM ' || g, CASE WHEN g % 9 <> 0 THEN 'A drama of a dog and a mad scientist, ' || g END, 1901 + g % 250, 1 + g % 6,
               CASE WHEN g % 4 = 0 THEN 1 + g % 5 END, (3 + g % 5)::smallint, 0.99 + g % 5, (46 + g % 140)::smallint,
               9.99 + g % 21, (enum_range(NULL::mpaa_rating))[1 + g % 5],
               CASE g % 4 WHEN 0 THEN NULL WHEN 1 THEN '{Trailers}' ELSE '{Trailers,"Deleted Scenes","Behind the Scenes"}' END::text[],
               to_tsvector('english', 'FILM ' || g || ' a thoughtful drama of a dog and a mad scientist')
        FROM generate_series(1, 1000) g;
        INSERT INTO film_actor (actor_id, film_id) SELECT DISTINCT 1 + (f * 7 + k * 13) % 200, f FROM generate_series(1, 1000) f, generate_series(1, 5) k;
        INSERT INTO customer (store_id, first_name, last_name, email, address_id, activebool, create_date, active)
        SELECT 1 + g % 2, 'CUSTOMER' || g, 'LAST' || g, CASE WHEN g % 11 <> 0 THEN 'customer' || g || '@example.org' END, (g % 600)::smallint,
               g % 13 <> 0, date '2022-01-01' + g % 120, CASE WHEN g % 13 = 0 THEN 0 ELSE 1 END
        FROM generate_series(1, 600) g;
        INSERT INTO rental (rental_date, inventory_id, customer_id, return_date, staff_id)
        SELECT timestamptz '2022-01-01 00:00:00+00' + g * interval '53 minutes', 1 + g % 4500, 1 + g % 500,
               CASE WHEN g % 17 <> 0 THEN timestamptz '2022-01-03 00:00:00+00' + g * interval '53 minutes' END, 1 + g % 2
        FROM generate_series(1, 4000) g;
        INSERT INTO payment (customer_id, staff_id, rental_id, amount, payment_date)
        SELECT r.customer_id, r.staff_id, r.rental_id, 0.99 + r.rental_id % 10, r.rental_date + interval '1 hour'
        FROM rental r;
        """;

    // Each table's digest: row count and an md5 of its rows as text in key order (both columns of a composite key).
    internal static readonly (string Table, string Key)[] Digests =
    [
        ("actor", "actor_id"), ("category", "category_id"), ("language", "language_id"), ("film", "film_id"),
        ("film_actor", "actor_id, film_id"), ("customer", "customer_id"), ("rental", "rental_id"),
        ("payment", "payment_date, payment_id"),
    ];

    private SyncDeployment _sync = null!;

    public async Task InitializeAsync()
    {
        _sync = await CdcDeployment.CreateAsync("pagila");
        // The destination gets its types after another, so no OID matches the source's.
        await OrdersTable.ExecuteAsync(_sync.Destination, "CREATE TYPE unrelated AS ENUM ('x');" + Types + TablesWith("integer", source: false));
        await OrdersTable.ExecuteAsync(_sync.Source, Types + TablesWith("serial", source: true) + Seed);
        foreach (var (table, key) in Digests)
        {
            _sync.WriteCdcJob($"{table}.yml", $"pagila-{table.Replace('_', '-')}", table, key: key, batchSize: 500, destination: ", deletes: delete");
        }

        await _sync.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await using (_sync)
        {
            await _sync.ReleaseCdcSlotsAsync();
        }
    }

    [Fact]
    public async Task A_pagila_like_schema_followed_table_by_table_equals_its_source_after_the_copy_and_after_concurrent_churn()
    {
        await WaitForEqualAsync("the initial copy");

        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(40));
        var writers = new[] { new Writer(_sync.Source, 1), new Writer(_sync.Source, 2), new Writer(_sync.Source, 3) };
        await Task.WhenAll(
            writers[0].RunAsync(FilmsAsync, stop.Token),
            writers[1].RunAsync(RentalsAsync, stop.Token),
            writers[2].RunAsync(LongTransactionsAsync, stop.Token));

        // The churn did what it is for: commits of every kind, rollbacks, and payments moved across partitions.
        Assert.All(writers, w => Assert.True(w.Committed >= 5, $"writer {w.Seed}: {w.Committed} commits, {w.RolledBack} rollbacks"));
        Assert.All(writers, w => Assert.True(w.RolledBack > 0, $"writer {w.Seed}: {w.RolledBack} rollbacks"));
        Assert.True(writers[1].Moved > 0, "no payment moved across partitions");

        await WaitForEqualAsync("the churn");
        Assert.True(
            Convert.ToInt64(await OrdersTable.ScalarAsync(_sync.Destination, "SELECT count(*) FROM film WHERE title LIKE 'CHURN %'"), CultureInfo.InvariantCulture) > 0,
            "no film inserted by the churn reached the destination");
    }

    internal static string TablesWith(string keyType, bool source) => string.Format(
        CultureInfo.InvariantCulture,
        Tables,
        keyType,
        source ? "REFERENCES language" : string.Empty,
        source ? "REFERENCES actor ON UPDATE CASCADE ON DELETE RESTRICT" : string.Empty,
        source ? "REFERENCES film ON UPDATE CASCADE ON DELETE RESTRICT" : string.Empty,
        source ? "REFERENCES customer ON UPDATE CASCADE ON DELETE RESTRICT" : string.Empty,
        source ? "REFERENCES rental ON UPDATE CASCADE ON DELETE SET NULL" : string.Empty,
        source ? "NOT NULL DEFAULT nextval('category_key_seq')" : string.Empty);

    // Films, actors and their pairs: multi-table inserts and deletes, updates of the domain, enum, array and tsvector columns.
    private static async Task FilmsAsync(Writer w, int n, CancellationToken ct)
    {
        switch (n % 6)
        {
            case 0:
                await w.TransactionAsync(n, commit: true, ct,
                    """
                    WITH f AS (
                        INSERT INTO film (title, release_year, language_id, rental_duration, rental_rate, length, rating, special_features, fulltext)
                        VALUES ('CHURN ' || $1, 1901 + $1 % 250, 1 + $1 % 6, 4, ($1 % 400) / 100.0, ($1 % 180)::smallint,
                                (enum_range(NULL::mpaa_rating))[1 + $1 % 5], ARRAY['Commentaries', 'take ' || $1], to_tsvector('english', 'churned film ' || $1))
                        RETURNING film_id)
                    INSERT INTO film_actor (actor_id, film_id) SELECT a.actor_id, f.film_id FROM f, (SELECT actor_id FROM actor ORDER BY random() LIMIT 3) a
                    """);
                break;
            case 1:
                await w.TransactionAsync(n, commit: true, ct,
                    """
                    UPDATE film SET rating = (enum_range(NULL::mpaa_rating))[1 + $1 % 5], release_year = CASE WHEN $1 % 7 = 0 THEN NULL ELSE 1901 + $1 % 250 END,
                                    special_features = CASE WHEN $1 % 3 = 0 THEN NULL ELSE ARRAY['Trailers', 'cut ' || $1] END,
                                    fulltext = to_tsvector('english', title || ' revised ' || $1), rental_rate = ($1 % 999) / 100.0,
                                    length = ($1 % 180)::smallint, last_update = clock_timestamp()
                    WHERE film_id IN (SELECT film_id FROM film ORDER BY random() LIMIT 5)
                    """);
                break;
            case 2:
                // A film goes with its actors' pairs, in one transaction.
                await w.TransactionAsync(n, commit: true, ct,
                    "CREATE TEMP TABLE IF NOT EXISTS gone_film (film_id integer) ON COMMIT DELETE ROWS",
                    "INSERT INTO gone_film SELECT film_id FROM film ORDER BY random() LIMIT 1",
                    "DELETE FROM film_actor WHERE film_id IN (SELECT film_id FROM gone_film)",
                    "DELETE FROM film WHERE film_id IN (SELECT film_id FROM gone_film)");
                break;
            case 3:
                await w.TransactionAsync(n, commit: true, ct,
                    "INSERT INTO actor (first_name, last_name) VALUES ('CHURN', 'ACTOR ' || $1)",
                    "UPDATE actor SET last_name = last_name || '+', last_update = clock_timestamp() WHERE actor_id IN (SELECT actor_id FROM actor ORDER BY random() LIMIT 2)");
                break;
            case 4:
                await w.TransactionAsync(n, commit: false, ct,
                    "INSERT INTO film (title, language_id, fulltext) VALUES ('ROLLED BACK ' || $1, 1, 'never')",
                    "UPDATE actor SET first_name = 'NEVER' WHERE actor_id IN (SELECT actor_id FROM actor ORDER BY random() LIMIT 3)",
                    "DELETE FROM film_actor WHERE film_id IN (SELECT film_id FROM film ORDER BY random() LIMIT 2)");
                break;
            default:
                await w.TransactionAsync(n, commit: true, ct,
                    "DELETE FROM film_actor WHERE (actor_id, film_id) IN (SELECT actor_id, film_id FROM film_actor ORDER BY random() LIMIT 2)",
                    """
                    INSERT INTO film_actor (actor_id, film_id)
                    SELECT (SELECT actor_id FROM actor ORDER BY random() LIMIT 1), (SELECT film_id FROM film ORDER BY random() LIMIT 1)
                    ON CONFLICT DO NOTHING
                    """);
                break;
        }
    }

    // Customers, rentals and payments: payments moved across partitions, deleted with their rental, rolled back.
    private static async Task RentalsAsync(Writer w, int n, CancellationToken ct)
    {
        switch (n % 6)
        {
            case 0:
                await w.TransactionAsync(n, commit: true, ct,
                    "INSERT INTO customer (store_id, first_name, last_name, email, address_id, active) VALUES (1, 'NEW', 'CUSTOMER ' || $1, 'new' || $1 || '@example.org', 1, 1)",
                    """
                    WITH r AS (
                        INSERT INTO rental (rental_date, inventory_id, customer_id, staff_id)
                        VALUES (timestamptz '2022-01-01 00:00:00+00' + ($1 % 170) * interval '1 day', 1 + $1 % 4500, currval('customer_customer_id_seq'), 2)
                        RETURNING rental_id, rental_date, customer_id)
                    INSERT INTO payment (customer_id, staff_id, rental_id, amount, payment_date)
                    SELECT r.customer_id, 2, r.rental_id, ($1 % 1000) / 100.0, r.rental_date + k * interval '5 days' FROM r, generate_series(0, 1) k
                    """);
                break;
            case 1:
                // A payment's new date lies in another month: its row moves to another partition.
                w.Moved += await w.TransactionAsync(n, commit: true, ct,
                    """
                    UPDATE payment SET payment_date = payment_date + CASE WHEN payment_date < '2022-06-01 00:00:00+00' THEN interval '1 month' ELSE interval '-1 month' END
                    WHERE (payment_date, payment_id) IN (SELECT payment_date, payment_id FROM payment ORDER BY random() LIMIT 3)
                    """);
                break;
            case 2:
                await w.TransactionAsync(n, commit: true, ct,
                    "UPDATE payment SET amount = ($1 % 1000) / 100.0 WHERE (payment_date, payment_id) IN (SELECT payment_date, payment_id FROM payment ORDER BY random() LIMIT 4)",
                    "UPDATE rental SET return_date = clock_timestamp(), last_update = clock_timestamp() WHERE rental_id IN (SELECT rental_id FROM rental ORDER BY random() LIMIT 2)");
                break;
            case 3:
                // A rental goes with its payments, in one transaction.
                await w.TransactionAsync(n, commit: true, ct,
                    "CREATE TEMP TABLE IF NOT EXISTS gone_rental (rental_id integer) ON COMMIT DELETE ROWS",
                    "INSERT INTO gone_rental SELECT rental_id FROM rental ORDER BY random() LIMIT 1",
                    "DELETE FROM payment WHERE rental_id IN (SELECT rental_id FROM gone_rental)",
                    "DELETE FROM rental WHERE rental_id IN (SELECT rental_id FROM gone_rental)");
                break;
            case 4:
                await w.TransactionAsync(n, commit: true, ct,
                    """
                    UPDATE customer SET activebool = NOT activebool, active = 1 - coalesce(active, 0), email = CASE WHEN $1 % 5 = 0 THEN NULL ELSE 'moved' || $1 || '@example.org' END,
                                        create_date = create_date + 1, last_update = clock_timestamp()
                    WHERE customer_id IN (SELECT customer_id FROM customer ORDER BY random() LIMIT 3)
                    """,
                    "DELETE FROM customer WHERE customer_id IN (SELECT customer_id FROM customer c WHERE NOT EXISTS (SELECT FROM rental r WHERE r.customer_id = c.customer_id) ORDER BY random() LIMIT 1)");
                break;
            default:
                await w.TransactionAsync(n, commit: false, ct,
                    "UPDATE payment SET payment_date = payment_date + interval '1 month' WHERE payment_date < '2022-06-01 00:00:00+00' AND payment_id % 50 = $1 % 50",
                    "INSERT INTO rental (rental_date, inventory_id, customer_id, staff_id) VALUES (now(), 1, 1, 1)",
                    "DELETE FROM payment WHERE (payment_date, payment_id) IN (SELECT payment_date, payment_id FROM payment ORDER BY random() LIMIT 5)");
                break;
        }
    }

    // Transactions held open for seconds over several tables while the others stream past them; every third rolls back.
    private static async Task LongTransactionsAsync(Writer w, int n, CancellationToken ct)
    {
        await w.TransactionAsync(n, commit: n % 3 != 2, ct,
            "UPDATE language SET name = 'Language ' || $1 || '-' || language_id, last_update = clock_timestamp() WHERE language_id = 1 + $1 % 6",
            "INSERT INTO category (name) VALUES ('Churn category ' || $1)",
            "DELETE FROM category WHERE category_id IN (SELECT category_id FROM category ORDER BY random() LIMIT 1)",
            "UPDATE customer SET first_name = first_name || '*' WHERE customer_id IN (SELECT customer_id FROM customer ORDER BY random() LIMIT 5)",
            "SELECT pg_sleep(3)",
            "INSERT INTO actor (first_name, last_name) VALUES ('LONG', 'TRANSACTION ' || $1)",
            "UPDATE film SET description = 'held open ' || $1, last_update = clock_timestamp() WHERE film_id IN (SELECT film_id FROM film ORDER BY random() LIMIT 2)");
    }

    private Task WaitForEqualAsync(string after) =>
        _sync.WaitForEqualAsync(after, [.. Digests.Select(d => DigestComparison.Table(
            $"\"{d.Table}\"", string.Join(", ", d.Key.Split(", ").Select(k => $"t.\"{k}\""))) with { Name = d.Table })]);

    /// <summary>One source connection running operations until stopped; a deadlock with another writer counts as a rollback.</summary>
    private sealed class Writer(string connectionString, int seed)
    {
        private NpgsqlConnection _connection = null!;

        public int Seed => seed;

        public int Committed { get; private set; }

        public int RolledBack { get; private set; }

        public int Moved { get; set; }

        public async Task RunAsync(Func<Writer, int, CancellationToken, Task> operation, CancellationToken stop)
        {
            await Task.Yield();
            var random = new Random(seed);
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync(CancellationToken.None);
            _connection = connection;
            while (!stop.IsCancellationRequested)
            {
                // A transaction in flight runs to its end; the stop only keeps the next from starting.
                await operation(this, random.Next(1, 1_000_000), CancellationToken.None);
                try
                {
                    await Task.Delay(random.Next(5, 20), stop);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }

        /// <summary>Runs the statements ($1 is <paramref name="n"/>) in one transaction; returns the rows the last one changed.</summary>
        public async Task<int> TransactionAsync(int n, bool commit, CancellationToken ct, params string[] statements)
        {
            await using var transaction = await _connection.BeginTransactionAsync(ct);
            var changed = 0;
            try
            {
                foreach (var sql in statements)
                {
                    await using var command = new NpgsqlCommand(sql, _connection, transaction);
                    if (sql.Contains("$1", StringComparison.Ordinal))
                    {
                        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = n });
                    }

                    changed = await command.ExecuteNonQueryAsync(ct);
                }
            }
            catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.SerializationFailure)
            {
                await transaction.RollbackAsync(ct);
                RolledBack++;
                return 0;
            }

            if (commit)
            {
                await transaction.CommitAsync(ct);
                Committed++;
                return changed;
            }

            await transaction.RollbackAsync(ct);
            RolledBack++;
            return 0;
        }
    }
}
