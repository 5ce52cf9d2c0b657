#!/usr/bin/env bash
# scripts/demo.sh — `./run demo`: the main job, end to end, on this machine.
#
# Starts PostgreSQL and RabbitMQ (installing them when missing), builds and starts the four
# services, creates an orders table of SYNC_DEMO_ROWS rows (default 100,000) in a source
# database, runs the job `orders` (jobs/orders.yml) through Coordinator → Extractor →
# Transformer → Loader into a destination database, changes 1% of the source rows, runs it
# again, checks that destination and source are equal, and stops the services it started.
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
cli() { dotnet "$REPO/tools/Sync.Cli/bin/Release/net10.0/sync.dll" --api "http://127.0.0.1:${SYNC_API_PORT:-5080}" "$@"; }

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

digest="SELECT count(*) || ' rows, md5 ' || md5(string_agg(o::text, '|' ORDER BY id)) FROM orders o"
source_digest="$(sql sync_demo_source "$digest")"
destination_digest="$(sql sync_demo_destination "$digest")"
echo "== Source:      $source_digest"
echo "== Destination: $destination_digest"
if [[ $source_digest != "$destination_digest" ]]; then
  echo "demo: FAILED: the destination differs from the source" >&2
  exit 1
fi
echo "== Destination equals source. Watermark:"
sql sync_demo_control "SELECT key || '  last_sync=' || last_sync || '  cursor=' || cursor FROM sync_watermarks"
