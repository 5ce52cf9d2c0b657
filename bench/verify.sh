#!/usr/bin/env bash
# bench/verify.sh [ROWS] — `sync verify` beside the sync it checks (issue 15, item 3).
#
# Seeds ROWS orders-like rows (default 1,000,000) as bench/pg-to-pg.sh does, runs the job once
# through the four services (the sync time), then times
#   verify equal:  `sync verify` of the synced tables (exit 0 expected);
#   verify 10:     the same after 10 destination rows are changed, deleted or added (exit 1
#                  expected, the 10 keys listed);
#   repair:        `sync verify --repair` (repair run + second verification, exit 0 expected).
# Target: verify equal ≤ the sync time, verify 10 ≤ twice it. Not a test: figures depend on the
# machine and on what else it runs.
set -euo pipefail

BENCH="$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")"
REPO="$(dirname "$BENCH")"
SCRIPTS="$REPO/scripts"
ROWS="${1:-${SYNC_BENCH_ROWS:-1000000}}"
BATCH="${SYNC_BENCH_BATCH:-5000}"

"$SCRIPTS/infra.sh" up
eval "$("$SCRIPTS/infra.sh" env)"
sql() { SYNC_PG_DATABASE="$1" "$SCRIPTS/pg.sh" psql -qtA -v ON_ERROR_STOP=1 -c "$2"; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

echo "== Building" >&2
dotnet build "$REPO/Sync.sln" -c Release -v q -nologo >/dev/null

for db in sync_vbench_source sync_vbench_destination sync_vbench_control; do
  sql postgres "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null
  sql postgres "CREATE DATABASE $db" >/dev/null
done
ddl="CREATE TABLE orders (
  id bigint PRIMARY KEY, customer_id integer NOT NULL, status text NOT NULL,
  amount numeric(12,2) NOT NULL, note text, created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL)"
for db in sync_vbench_source sync_vbench_destination; do sql "$db" "$ddl"; done

echo "== Seeding $ROWS rows" >&2
sql sync_vbench_source "INSERT INTO orders
  SELECT g, (g % 50000)::int, (ARRAY['new','paid','shipped','cancelled'])[1 + g % 4],
         round((random() * 1000)::numeric, 2), 'order note ' || md5(g::text) || ' ' || (g % 97),
         now() - interval '30 days', now() - interval '1 day' + g * interval '10 microseconds'
  FROM generate_series(1, $ROWS) g"
sql sync_vbench_source "CREATE INDEX orders_updated_at_id ON orders (updated_at, id)"
sql sync_vbench_source "VACUUM ANALYZE orders"

jobs_dir="$REPO/.sync/vbench/jobs"
rm -rf "$jobs_dir" && mkdir -p "$jobs_dir"
cat >"$jobs_dir/vbench-orders.yml" <<YAML
name: vbench-orders
batch_size: $BATCH
mode: full_refresh
source: { type: postgres, connection: vbench_source, table: public.orders, cursor: updated_at, primary_key: [id] }
destination: { type: postgres, connection: vbench_destination, table: public.orders, key: [id], deletes: delete }
YAML
base="Host=$SYNC_PG_HOST;Port=$SYNC_PG_PORT;Username=$SYNC_PG_USER;Password=$SYNC_PG_PASSWORD"
# The Extractor verifies: it needs the destination's connection as well as the source's.
export Connections__vbench_source="$base;Database=sync_vbench_source"
export Connections__vbench_destination="$base;Database=sync_vbench_destination"
export SYNC_CONTROL_DB=sync_vbench_control SYNC_JOBS_DIR="$jobs_dir" SYNC_NO_BUILD=1
export Logging__LogLevel__Default=Warning
trap '"$SCRIPTS/services.sh" stop' EXIT
"$SCRIPTS/services.sh" start
cli() { dotnet "$REPO/tools/Sync.Cli/bin/Release/net10.0/sync.dll" --api "http://127.0.0.1:${SYNC_API_PORT:-5080}" "$@"; }
expect() { # CODE COMMAND… — run, fail the bench when the exit code is not CODE
  local want="$1" got=0
  shift
  "$@" >/dev/null || got=$?
  [[ "$got" == "$want" ]] || { echo "bench: $* exited $got, expected $want" >&2; exit 1; }
}

echo "== Sync: initial load" >&2
start="$(now)"
cli run vbench-orders --follow --json >/dev/null
sync_s="$(secs "$start" "$(now)")"

echo "== Verify: equal" >&2
start="$(now)"
expect 0 cli verify vbench-orders
equal_s="$(secs "$start" "$(now)")"

echo "== Verify: 10 differing keys" >&2
sql sync_vbench_destination "UPDATE orders SET note = 'changed' WHERE id IN (1, $((ROWS / 4)), $((ROWS / 2)), $((ROWS - 7)))"
sql sync_vbench_destination "DELETE FROM orders WHERE id IN (2, $((ROWS / 3)), $((ROWS - 3)))"
sql sync_vbench_destination "INSERT INTO orders SELECT id + $ROWS, customer_id, status, amount, note, created_at, updated_at FROM orders WHERE id IN (5, 6, 7)"
start="$(now)"
expect 1 cli verify vbench-orders
ten_s="$(secs "$start" "$(now)")"

echo "== Verify --repair" >&2
start="$(now)"
expect 0 cli verify vbench-orders --repair
repair_s="$(secs "$start" "$(now)")"

cat <<REPORT

verify, $ROWS rows, batch size $BATCH, $(nproc) cores
  sync initial load (4 services)        ${sync_s} s
  verify, equal                         ${equal_s} s   $(awk -v a="$equal_s" -v b="$sync_s" 'BEGIN { printf "%.2f", a / b }')× the sync (target ≤ 1)
  verify, 10 differing keys             ${ten_s} s   $(awk -v a="$ten_s" -v b="$sync_s" 'BEGIN { printf "%.2f", a / b }')× the sync (target ≤ 2)
  verify --repair (run + verify again)  ${repair_s} s
REPORT
