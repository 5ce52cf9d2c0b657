#!/usr/bin/env bash
# bench/pg-to-pg.sh [ROWS] — Sync against the physical limit, same data, same run.
#
# Seeds ROWS orders-like rows (default 1,000,000, about 150 bytes each) in a source database, then
#   limit:        psql \copy (format binary) out of the source, piped into \copy into a staging
#                 table of an empty destination, plus one INSERT … ON CONFLICT merge;
#   sync initial: the job through Coordinator → Extractor → Transformer → Loader (empty destination);
#   sync 1%:      1% of the source rows changed, the job run again.
# The source has an index on (updated_at, id), as an incremental source should; the services get
# one small warm-up run first (they are long-running; JIT warm-up is not what is measured).
# Prints rows/s for each and the ratio to the limit. Batch size: SYNC_BENCH_BATCH (default 5000).
# Not a test: figures depend on the machine and on what else it runs.
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
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", n / s }'; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

echo "== Building" >&2
dotnet build "$REPO/Sync.sln" -c Release -v q -nologo >/dev/null

for db in sync_bench_source sync_bench_limit sync_bench_destination sync_bench_control; do
  sql postgres "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null
  sql postgres "CREATE DATABASE $db" >/dev/null
done
ddl="CREATE TABLE orders (
  id bigint PRIMARY KEY, customer_id integer NOT NULL, status text NOT NULL,
  amount numeric(12,2) NOT NULL, note text, created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL)"
for db in sync_bench_source sync_bench_limit sync_bench_destination; do sql "$db" "$ddl"; done

echo "== Seeding $ROWS rows" >&2
sql sync_bench_source "INSERT INTO orders
  SELECT g, (g % 50000)::int, (ARRAY['new','paid','shipped','cancelled'])[1 + g % 4],
         round((random() * 1000)::numeric, 2), 'order note ' || md5(g::text) || ' ' || (g % 97),
         now() - interval '30 days', now() - interval '1 day' + g * interval '10 microseconds'
  FROM generate_series(1, $ROWS) g"
# An incremental source has its cursor indexed: both the limit and Sync read in cursor order.
sql sync_bench_source "CREATE INDEX orders_updated_at_id ON orders (updated_at, id)"
sql sync_bench_source "VACUUM ANALYZE orders"
# A small table for a warm-up run: the services are long-running, the figures are not about JIT.
sql sync_bench_source "CREATE TABLE warmup AS SELECT * FROM orders WHERE id <= 20000"
sql sync_bench_source "ALTER TABLE warmup ADD PRIMARY KEY (id)"
sql sync_bench_destination "CREATE TABLE warmup (LIKE orders INCLUDING ALL)"
row_bytes="$(sql sync_bench_source "SELECT round(avg(pg_column_size(o.*))) FROM orders o")"

echo "== Limit: psql \\copy binary + one merge" >&2
pg="$SCRIPTS/pg.sh"
start="$(now)"
SYNC_PG_DATABASE=sync_bench_source "$pg" psql -qtA -v ON_ERROR_STOP=1 \
  -c "\\copy (SELECT * FROM orders ORDER BY updated_at, id) TO STDOUT (FORMAT binary)" |
  SYNC_PG_DATABASE=sync_bench_limit "$pg" psql -qtA -v ON_ERROR_STOP=1 \
    -c "CREATE TEMP TABLE stage (LIKE orders)" \
    -c "\\copy stage FROM pstdin (FORMAT binary)" \
    -c "INSERT INTO orders AS d SELECT * FROM stage ON CONFLICT (id) DO UPDATE SET
          customer_id = EXCLUDED.customer_id, status = EXCLUDED.status, amount = EXCLUDED.amount,
          note = EXCLUDED.note, created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at
          WHERE d.updated_at < EXCLUDED.updated_at" >/dev/null
limit_s="$(secs "$start" "$(now)")"

jobs_dir="$REPO/.sync/bench/jobs"
rm -rf "$jobs_dir" && mkdir -p "$jobs_dir"
cat >"$jobs_dir/bench-orders.yml" <<YAML
name: bench-orders
batch_size: $BATCH
source: { type: postgres, connection: bench_source, table: public.orders, cursor: updated_at, primary_key: [id] }
destination: { type: postgres, connection: bench_destination, table: public.orders, key: [id] }
YAML
cat >"$jobs_dir/bench-warmup.yml" <<YAML
name: bench-warmup
batch_size: $BATCH
source: { type: postgres, connection: bench_source, table: public.warmup, cursor: updated_at, primary_key: [id] }
destination: { type: postgres, connection: bench_destination, table: public.warmup, key: [id] }
YAML
base="Host=$SYNC_PG_HOST;Port=$SYNC_PG_PORT;Username=$SYNC_PG_USER;Password=$SYNC_PG_PASSWORD"
export Connections__bench_source="$base;Database=sync_bench_source"
export Connections__bench_destination="$base;Database=sync_bench_destination"
export SYNC_CONTROL_DB=sync_bench_control SYNC_JOBS_DIR="$jobs_dir" SYNC_NO_BUILD=1
export Logging__LogLevel__Default=Warning
trap '"$SCRIPTS/services.sh" stop' EXIT
"$SCRIPTS/services.sh" start
cli() { dotnet "$REPO/tools/Sync.Cli/bin/Release/net10.0/sync.dll" --api "http://127.0.0.1:${SYNC_API_PORT:-5080}" "$@"; }

echo "== Warm-up run (20,000 rows, not measured)" >&2
cli run bench-warmup --follow --json >/dev/null

# CPU seconds (user + system) each service and PostgreSQL used, to see which stage is the bottleneck.
cpu_of() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat" 2>/dev/null || echo 0; }
service_cpu() {
  local f
  for f in "$REPO"/.sync/run/*.pid; do
    [[ $(basename "$f" .pid) =~ ^(coordinator|extractor|transformer|loader(-[0-9]+)?)$ ]] || continue
    printf '%s=%s ' "$(basename "$f" .pid)" "$(cpu_of "$(cat "$f")")"
  done
  # PostgreSQL: every backend lives shorter than the run, so the whole machine's busy time stands for it.
  printf 'machine=%s' "$(awk -v hz="$(getconf CLK_TCK)" '/^cpu / { printf "%.2f", ($2 + $3 + $4 + $7 + $8) / hz }' /proc/stat)"
}
cpu_delta() { # BEFORE AFTER → "name  seconds" lines
  awk -v before="$1" -v after="$2" 'BEGIN {
    n = split(before, b, " "); for (i = 1; i <= n; i++) { split(b[i], kv, "="); start[kv[1]] = kv[2] }
    n = split(after, a, " "); for (i = 1; i <= n; i++) { split(a[i], kv, "="); printf "    %-12s %7.2f s\n", kv[1], kv[2] - start[kv[1]] } }'
}

echo "== Sync: initial load" >&2
cpu_before="$(service_cpu)"
start="$(now)"
cli run bench-orders --follow --json >/dev/null
initial_s="$(secs "$start" "$(now)")"
cpu_initial="$(cpu_delta "$cpu_before" "$(service_cpu)")"

changed=$((ROWS / 100))
sql sync_bench_source "UPDATE orders SET status = 'refunded', updated_at = clock_timestamp() WHERE id % 100 = 0" >/dev/null
echo "== Sync: 1% incremental ($changed rows)" >&2
start="$(now)"
cli run bench-orders --follow --json >/dev/null
incremental_s="$(secs "$start" "$(now)")"

digest="SELECT md5(string_agg(o::text, '|' ORDER BY id)) FROM orders o"
[[ "$(sql sync_bench_source "$digest")" == "$(sql sync_bench_destination "$digest")" ]] || {
  echo "bench: the destination differs from the source" >&2
  exit 1
}

limit_rate="$(rate "$ROWS" "$limit_s")"
initial_rate="$(rate "$ROWS" "$initial_s")"
cat <<REPORT

pg→pg, $ROWS rows (~$row_bytes bytes each), batch size $BATCH, $(nproc) cores
  limit (psql \\copy binary + merge)   ${limit_s} s   ${limit_rate} rows/s
  sync initial load (4 services)       ${initial_s} s   ${initial_rate} rows/s   $(awk -v a="$initial_rate" -v b="$limit_rate" 'BEGIN { printf "%.2f", a / b }')× the limit
  sync 1% incremental ($changed rows)   ${incremental_s} s end to end (CLI start to finish)
  CPU used during the initial load (machine = all cores, PostgreSQL and anything else included):
$cpu_initial
REPORT
