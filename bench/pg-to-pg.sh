#!/usr/bin/env bash
# bench/pg-to-pg.sh [ROWS] — Sync against the physical limit and the tools users would pick,
# same data, same run (issue 16).
#
# Seeds ROWS orders-like rows (default 1,000,000, about 150 bytes each) in a source database, then
#   limit:        psql \copy (format binary) out of the source, piped into \copy into a staging
#                 table of an empty destination, plus one INSERT … ON CONFLICT merge;
#   pgloader:     the source table into an empty database of its own (pgloader makes the table and
#                 its indexes, as with its defaults);
#   pgcopydb:     the same with `pgcopydb clone`, filtered to the one table;
#   sync initial: the job through Coordinator → Extractor → Transformer → Loader (empty destination);
#   sync 1%:      1% of the source rows changed, the job run again.
# pgloader and pgcopydb are Debian packages, installed with apt-get when missing; a tool that fails
# or copies another number of rows is reported as such and the bench goes on (pgloader can die of
# heap exhaustion on 1M rows). The source has an index on (updated_at, id), as an incremental
# source should; the services get one small warm-up run first (they are long-running; JIT warm-up
# is not what is measured).
# Prints rows/s for each and the ratio to the limit; for the initial load, the CPU-seconds of
# Sync's own processes (from /proc/PID/stat) as rows per CPU-second and CPU-seconds per 1M rows,
# and each service's peak RSS (VmHWM), beside issue 16's targets. Batch size: SYNC_BENCH_BATCH
# (default 5000). Not a test: figures depend on the machine and on what else it runs.
set -euo pipefail

ROWS="${1:-${SYNC_BENCH_ROWS:-1000000}}"
BATCH="${SYNC_BENCH_BATCH:-5000}"
# shellcheck source=bench/lib.sh
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib.sh"

# pgloader and pgcopydb from Debian when missing; `apt-get update` only when the install fails.
install_tools() {
  local missing=() sudo=() log="${TMPDIR:-/tmp}/sync-bench-apt.log"
  command -v pgloader >/dev/null || missing+=(pgloader)
  command -v pgcopydb >/dev/null || missing+=(pgcopydb)
  ((${#missing[@]})) || return 0
  ((EUID == 0)) || sudo=(sudo -n)
  echo "== Installing ${missing[*]} (apt-get, log in $log)" >&2
  local install=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q
    -o DPkg::Lock::Timeout=300 --no-install-recommends "${missing[@]}")
  "${install[@]}" >>"$log" 2>&1 </dev/null ||
    { "${sudo[@]}" apt-get -q -o DPkg::Lock::Timeout=300 update && "${install[@]}"; } >>"$log" 2>&1 </dev/null ||
    echo "bench: could not install ${missing[*]} (see $log); the bench goes on without" >&2
}

STATE="$(readlink -f "$REPO/.sync")"
# PostgreSQL: the postmaster's own CPU, its exited children's (cutime + cstime: a backend that ended
# during the run) and its live children's.
pg_cpu() {
  local postmaster
  postmaster="$(head -1 "$STATE/pg/postmaster.pid" 2>/dev/null)" || { echo 0; return; }
  { cat "/proc/$postmaster/stat"; for child in $(pgrep -P "$postmaster"); do cat "/proc/$child/stat" 2>/dev/null; done; } |
    awk -v hz="$(getconf CLK_TCK)" -v pm="$postmaster" '$1 == pm { t += $16 + $17 } { t += $14 + $15 } END { printf "%.2f", t / hz }'
}
install_tools
bench_build
bench_state bench
bench_databases sync_bench_source sync_bench_limit sync_bench_pgloader sync_bench_pgcopydb \
  sync_bench_destination sync_bench_control
bench_orders_table sync_bench_source sync_bench_limit sync_bench_destination
bench_seed_orders sync_bench_source "$ROWS"
# A small table for a warm-up run: the services are long-running, the figures are not about JIT.
sql sync_bench_source "CREATE TABLE warmup AS SELECT * FROM orders WHERE id <= 20000"
sql sync_bench_source "ALTER TABLE warmup ADD PRIMARY KEY (id)"
sql sync_bench_destination "CREATE TABLE warmup (LIKE orders INCLUDING ALL)"
row_bytes="$(sql sync_bench_source "SELECT round(avg(pg_column_size(o.*))) FROM orders o")"

echo "== Limit: psql \\copy binary + one merge" >&2
limit_pg_before="$(pg_cpu)"
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
limit_pg="$(awk -v a="$limit_pg_before" -v b="$(pg_cpu)" 'BEGIN { printf "%.2f", b - a }')"
limit_rate="$(rate "$ROWS" "$limit_s")"
timed() { printf '%6s s   %7s rows/s' "$1" "$(rate "$ROWS" "$1")"; } # SECONDS → "time   rows/s"

# copy_tool NAME COMMAND…: NAME copies the source's orders into sync_bench_NAME, timed; its
# report line goes to tool_line[NAME]. A failure, a hang (30 min) or a wrong row count is reported,
# not fatal.
declare -A tool_line
copy_tool() {
  local name="$1" log="$BENCH_STATE/$1.log" start s copied
  shift
  if ! command -v "$name" >/dev/null; then
    tool_line[$name]="not installed"
    return 0
  fi
  echo "== $name" >&2
  start="$(now)"
  if ! timeout 1800 "$@" >"$log" 2>&1 </dev/null; then
    tool_line[$name]="failed after $(secs "$start" "$(now)") s (log: $log)"
    return 0
  fi
  s="$(secs "$start" "$(now)")"
  copied="$(sql "sync_bench_$name" "SELECT count(*) FROM orders" 2>/dev/null)" || copied="no table"
  if [[ $copied != "$ROWS" ]]; then
    tool_line[$name]="failed: copied $copied rows of $ROWS in $s s (log: $log)"
    return 0
  fi
  tool_line[$name]="$(timed "$s")   $(ratio "$(rate "$ROWS" "$s")" "$limit_rate")× the limit"
}
url() { echo "postgresql://$SYNC_PG_USER:$SYNC_PG_PASSWORD@$SYNC_PG_HOST:$SYNC_PG_PORT/$1"; }

cat >"$BENCH_STATE/pgloader.load" <<LOAD
LOAD DATABASE
  FROM $(url sync_bench_source)
  INTO $(url sync_bench_pgloader)
  INCLUDING ONLY TABLE NAMES MATCHING 'orders' IN SCHEMA 'public';
LOAD
copy_tool pgloader pgloader "$BENCH_STATE/pgloader.load"

printf '[include-only-table]\npublic.orders\n' >"$BENCH_STATE/pgcopydb.filters"
copy_tool pgcopydb pgcopydb clone --source "$(url sync_bench_source)" --target "$(url sync_bench_pgcopydb)" \
  --dir "$BENCH_STATE/pgcopydb" --filters "$BENCH_STATE/pgcopydb.filters" --no-owner --no-acl --skip-extensions

orders_job() { # NAME TABLE
  cat >"$BENCH_STATE/jobs/$1.yml" <<YAML
name: $1
batch_size: $BATCH
source: { type: postgres, connection: bench_source, table: public.$2, cursor: updated_at, primary_key: [id] }
destination: { type: postgres, connection: bench_destination, table: public.$2, key: [id] }
YAML
}
orders_job bench-orders orders
orders_job bench-warmup warmup
bench_connection bench_source sync_bench_source
bench_connection bench_destination sync_bench_destination
bench_services_start bench

echo "== Warm-up run (20,000 rows, not measured)" >&2
cli run bench-warmup --follow --json >/dev/null

# service_pids: "name=pid" of each running service.
service_pids() {
  local f name
  for f in "$SYNC_RUN_DIR"/*.pid; do
    name="$(basename "$f" .pid)"
    [[ $name =~ ^(coordinator|extractor|transformer|loader(-[0-9]+)?)$ ]] && printf '%s=%s ' "$name" "$(cat "$f")"
  done
}
# CPU seconds (user + system) each service, PostgreSQL and RabbitMQ used, to see where the time goes.
cpu_of() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat" 2>/dev/null || echo 0; }
service_cpu() {
  local entry
  for entry in $(service_pids); do printf '%s=%s ' "${entry%%=*}" "$(cpu_of "${entry#*=}")"; done
  printf 'postgresql=%s ' "$(pg_cpu)"
  printf 'rabbitmq=%s ' "$(cpu_of "$(cat "$STATE/rabbitmq/$SYNC_RABBIT_NODE.pid" 2>/dev/null || echo 0)")"
  printf 'machine=%s' "$(awk -v hz="$(getconf CLK_TCK)" '/^cpu / { printf "%.2f", ($2 + $3 + $4 + $7 + $8) / hz }' /proc/stat)"
}
cpu_delta() { # BEFORE AFTER → "name  seconds" lines, then "sync SECONDS" (the services' sum)
  awk -v before="$1" -v after="$2" 'BEGIN {
    n = split(before, b, " "); for (i = 1; i <= n; i++) { split(b[i], kv, "="); start[kv[1]] = kv[2] }
    n = split(after, a, " ")
    for (i = 1; i <= n; i++) {
      split(a[i], kv, "="); used = kv[2] - start[kv[1]]
      printf "    %-12s %7.2f s\n", kv[1], used
      if (kv[1] !~ /^(machine|postgresql|rabbitmq)$/) sum += used
    }
    printf "sync %.2f\n", sum }'
}
peak_rss() { # "    name  MB" lines: VmHWM, the most resident memory since the process started
  local entry
  for entry in $(service_pids); do
    printf '    %-12s %7s MB\n' "${entry%%=*}" "$(awk '/^VmHWM:/ { printf "%.0f", $2 / 1024 }' "/proc/${entry#*=}/status" 2>/dev/null || echo "?")"
  done
}

echo "== Sync: initial load" >&2
cpu_before="$(service_cpu)"
start="$(now)"
initial_json="$(cli run bench-orders --follow --json)"
initial_s="$(secs "$start" "$(now)")"
# The run's own time, from the Coordinator (started → finished): the CLI's process start and its
# looks at the run are not in it.
run_s="$(printf '%s' "$initial_json" | sed -n 's/.*"durationMs": *\([0-9]*\).*/\1/p' | head -1 | awk '{ printf "%.2f", $1 / 1000 }')"
cpu_after="$(service_cpu)"
rss_initial="$(peak_rss)"
cpu_initial="$(cpu_delta "$cpu_before" "$cpu_after" | grep -v '^sync ')"
sync_cpu="$(cpu_delta "$cpu_before" "$cpu_after" | sed -n 's/^sync //p')"

changed=$((ROWS / 100))
sql sync_bench_source "UPDATE orders SET status = 'refunded', updated_at = clock_timestamp() WHERE id % 100 = 0" >/dev/null
echo "== Sync: 1% incremental ($changed rows)" >&2
start="$(now)"
cli run bench-orders --follow --json >/dev/null
incremental_s="$(secs "$start" "$(now)")"

bench_same sync_bench_source sync_bench_destination orders || {
  echo "bench: the destination differs from the source" >&2
  exit 1
}

initial_rate="$(rate "$ROWS" "$initial_s")"
row() { printf '  %-38s %s\n' "$1" "$2"; }
per_cpu_s="$(awk -v n="$ROWS" -v c="$sync_cpu" 'BEGIN { if (c > 0) printf "%.0f", n / c; else print "-" }')"
echo
echo "pg→pg, $ROWS rows (~$row_bytes bytes each), batch size $BATCH, $(nproc) cores"
row "limit (psql \copy binary + merge)" "$(timed "$limit_s")   1×   (its PostgreSQL backends: $limit_pg CPU-s)"
row "pgloader (copy, no merge)" "${tool_line[pgloader]}"
row "pgcopydb clone (copy, no merge)" "${tool_line[pgcopydb]}"
row "sync initial load (4 services)" "$(timed "$initial_s")   $(ratio "$initial_rate" "$limit_rate")× the limit (target ≥ 0.6), CLI start to finish"
row "  the run itself (Coordinator)" "$(timed "$run_s")   $(ratio "$(rate "$ROWS" "$run_s")" "$limit_rate")× the limit, started → finished"
row "sync 1% incremental ($changed rows)" "${incremental_s} s end to end, CLI start to finish (target < 1 s at 1M rows)"
row "sync's own CPU, initial load" "$sync_cpu CPU-s: $per_cpu_s rows per CPU-second (target ≥ 165000), $(awk -v n="$ROWS" -v c="$sync_cpu" 'BEGIN { printf "%.2f", c * 1000000 / n }') CPU-s per 1M rows (target ≤ 6)"
cat <<REPORT
  CPU used during the initial load (postgresql: every backend, source and destination; machine = all cores, everything included):
$cpu_initial
  peak RSS (VmHWM) of each service after the initial load (target ≤ 250 MB each):
$rss_initial
REPORT
