#!/usr/bin/env bash
# scripts/demo.sh — `./run demo`: the main job, end to end, on this machine.
#
# Starts PostgreSQL and RabbitMQ (installing them when missing), builds and starts the four
# services, creates an orders table of SYNC_DEMO_ROWS rows (default 100,000) in a source
# database, runs the job `orders` (jobs/orders.yml) through Coordinator → Extractor →
# Transformer → Loader into a destination database, changes 1% of the source rows, runs it
# again, checks that destination and source are equal; then runs the warehouse job `orders_fact`
# (jobs/orders_fact.yml, a query joining orders, order_items and users) twice, around a change to
# the items of 1% of the orders, checks orders_fact against the same aggregate computed in SQL, and
# stops the services it started.
set -euo pipefail

SCRIPTS="$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")"
REPO="$(dirname "$SCRIPTS")"
ROWS="${SYNC_DEMO_ROWS:-100000}"
CHANGED=$((ROWS / 100))

"$SCRIPTS/infra.sh" up
eval "$("$SCRIPTS/infra.sh" env)"
sql() { # DATABASE SQL
  SYNC_PG_DATABASE="$1" "$SCRIPTS/pg.sh" psql -qtA -v ON_ERROR_STOP=1 -c "$2"
}

echo "== Building"
dotnet build "$REPO/Sync.sln" -c Release -v q -nologo >/dev/null
cli() { dotnet "$REPO/tools/Sync.Cli/bin/Release/net10.0/syncctl.dll" --api "http://127.0.0.1:${SYNC_API_PORT:-5080}" "$@"; }

echo "== Creating the demo databases (source: $ROWS orders)"
for db in sync_demo_source sync_demo_destination sync_demo_control; do
  sql postgres "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null
  sql postgres "CREATE DATABASE $db" >/dev/null
done
orders_ddl="CREATE TABLE orders (
  id bigint PRIMARY KEY, customer_id integer NOT NULL, status text NOT NULL,
  amount numeric(12,2) NOT NULL, note text, created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL)"
sql sync_demo_source "$orders_ddl"
sql sync_demo_destination "$orders_ddl"
sql sync_demo_source "INSERT INTO orders
  SELECT g, (g % 5000)::int, (ARRAY['new','paid','shipped','cancelled'])[1 + g % 4],
         round((random() * 1000)::numeric, 2), 'order note ' || md5(g::text),
         now() - interval '30 days', now() - interval '1 day' + g * interval '1 millisecond'
  FROM generate_series(1, $ROWS) g"

base="Host=$SYNC_PG_HOST;Port=$SYNC_PG_PORT;Username=$SYNC_PG_USER;Password=$SYNC_PG_PASSWORD"
export Connections__demo_source="$base;Database=sync_demo_source"
export Connections__demo_destination="$base;Database=sync_demo_destination"
export SYNC_CONTROL_DB=sync_demo_control SYNC_NO_BUILD=1

echo "== Starting the four services"
trap '"$SCRIPTS/services.sh" stop' EXIT
"$SCRIPTS/services.sh" start

echo "== Run 1: initial load"
cli run orders --follow

echo "== Changing 1% of the source ($CHANGED rows)"
sql sync_demo_source "UPDATE orders SET status = 'refunded', amount = amount + 1, updated_at = clock_timestamp()
  WHERE id % 100 = 0" >/dev/null

echo "== Run 2: incremental"
cli run orders --follow

# syncctl verify counts and hashes the rows in each database, by buckets of the key; exit 1 if they differ.
echo "== syncctl verify orders"
if ! cli verify orders; then
  echo "demo: FAILED: syncctl verify found the destination different from the source (or could not verify)" >&2
  exit 1
fi
echo "== Destination equals source."

echo "== Job orders_fact (jobs/orders_fact.yml): users and order items for the warehouse example"
sql sync_demo_source "CREATE TABLE users (id integer PRIMARY KEY, email text NOT NULL, updated_at timestamptz NOT NULL)"
sql sync_demo_source "CREATE TABLE order_items (id bigint PRIMARY KEY, order_id bigint NOT NULL REFERENCES orders,
  quantity integer NOT NULL, unit_price numeric(10,2) NOT NULL, updated_at timestamptz NOT NULL)"
sql sync_demo_source "INSERT INTO users SELECT g, 'customer' || g || '@example.com', now() - interval '2 days'
  FROM generate_series(0, 4999) g"
sql sync_demo_source "INSERT INTO order_items SELECT o * 10 + k, o, 1 + (o + k) % 4, (o % 90) + k + 0.99, now() - interval '1 day'
  FROM generate_series(1, $ROWS) o, generate_series(1, 3) k WHERE k <= o % 4"
sql sync_demo_destination "CREATE TABLE public.orders_fact (order_id bigint PRIMARY KEY, user_email text NOT NULL,
  total_amount numeric(12,2) NOT NULL, item_count integer NOT NULL, status text NOT NULL, order_date date NOT NULL,
  synced_at timestamptz NOT NULL, changed_at timestamptz NOT NULL)"

echo "== orders_fact run 1: initial load"
cli run orders_fact --follow

echo "== Changing items of 1% of the orders"
sql sync_demo_source "UPDATE order_items SET quantity = quantity + 1, updated_at = clock_timestamp()
  WHERE order_id % 100 = 1 AND id % 10 = 1" >/dev/null

echo "== orders_fact run 2: incremental"
cli run orders_fact --follow

# The job leaves synced_at (the time of each run, the destination's own) out of its comparisons: verify: ignore.
echo "== syncctl verify orders_fact"
if ! cli verify orders_fact; then
  echo "demo: FAILED: syncctl verify found orders_fact different from its source query (or could not verify)" >&2
  exit 1
fi
echo "== orders_fact equals its source query. Watermarks:"
sql sync_demo_control "SELECT key || '  last_sync=' || last_sync || '  cursor=' || cursor FROM sync_watermarks"
