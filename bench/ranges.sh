#!/usr/bin/env bash
# bench/ranges.sh [ROWS] — an initial load in key ranges (source.range_size, issue 19): one against
# two Extractors, and the rework after an Extractor is killed mid-load.
#
# Seeds ROWS orders-like rows (default 1,000,000) and loads them four times into empty tables:
#   one read:         the job without range_size, one Extractor (the baseline);
#   ranges, 1 ext.:   range_size SYNC_BENCH_RANGE (default ROWS/20), one Extractor;
#   ranges, 2 ext.:   the same with two Extractors;
#   kill:             two Extractors, the first killed (SIGKILL) once a range is extracted; the
#                     run completes on the other.
# Prints each load's time and rows/s, and for the kill the ranges read more than once and the rows
# read again (sync_run_ranges), beside the whole table a load in one read would read again.
# On 2 cores two Extractors are about correctness and overhead, not speed-up: the stages and
# PostgreSQL share the same cores. Not a test: figures depend on the machine and on what else runs.
# Infrastructure as the other benches (bench/lib.sh); to keep it away from other users' servers,
# give it ports of its own, e.g.
#   SYNC_PG_PORT=58432 SYNC_RABBIT_PORT=58672 SYNC_RABBIT_NODE=syncperf2@localhost SYNC_RABBIT_MGMT_PORT=58680 \
#   SYNC_RABBIT_DIST_PORT=58673 SYNC_EPMD_PORT=58369 SYNC_S3_PORT=58900 SYNC_API_PORT=5198 bench/ranges.sh 1000000
set -euo pipefail

ROWS="${1:-${SYNC_BENCH_ROWS:-1000000}}"
BATCH="${SYNC_BENCH_BATCH:-5000}"
RANGE="${SYNC_BENCH_RANGE:-$((ROWS / 20 > 1000 ? ROWS / 20 : 1000))}"
# shellcheck source=bench/lib.sh
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib.sh"

bench_build
bench_state ranges
bench_databases sync_ranges_source sync_ranges_destination sync_ranges_control
bench_orders_table sync_ranges_source
bench_seed_orders sync_ranges_source "$ROWS"
for table in warmup one_read ranges_1 ranges_2 ranges_kill; do
  sql sync_ranges_destination "CREATE TABLE $table (id bigint PRIMARY KEY, customer_id integer NOT NULL,
    status text NOT NULL, amount numeric(12,2) NOT NULL, note text, created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL)"
done
sql sync_ranges_source "CREATE TABLE warmup AS SELECT * FROM orders WHERE id <= 20000"
sql sync_ranges_source "ALTER TABLE warmup ADD PRIMARY KEY (id)"

job() { # NAME SOURCE DESTINATION [RANGE]
  cat >"$BENCH_STATE/jobs/$1.yml" <<YAML
name: $1
batch_size: $BATCH
source: { type: postgres, connection: bench_source, table: public.$2, cursor: updated_at, primary_key: [id]${4:+, range_size: $4} }
destination: { type: postgres, connection: bench_destination, table: public.$3, key: [id] }
YAML
}
job warmup warmup warmup 1000
job one-read orders one_read
job ranges-1 orders ranges_1 "$RANGE"
job ranges-2 orders ranges_2 "$RANGE"
job ranges-kill orders ranges_kill "$RANGE"
bench_connection bench_source sync_ranges_source
bench_connection bench_destination sync_ranges_destination

control() { sql sync_ranges_control "$1"; }
# run_until_done RUN_ID → seconds from now until the run ended; fails unless it Completed.
wait_run() {
  local state
  while :; do
    state="$(control "SELECT current_state FROM sync_runs WHERE correlation_id = '$1'")"
    case "$state" in
      Completed) return 0 ;;
      Failed | Rejected)
        echo "bench: run $1 ended $state: $(control "SELECT failure_reason FROM sync_runs WHERE correlation_id = '$1'")" >&2
        exit 1
        ;;
    esac
    sleep 0.2
  done
}
timed_run() { # JOB → "seconds"
  local start id
  start="$(now)"
  id="$(cli run "$1")"
  wait_run "$id"
  secs "$start" "$(now)"
}
check() { # TABLE
  bench_same sync_ranges_source sync_ranges_destination orders "$1" || {
    echo "bench: $1 differs from the source" >&2
    exit 1
  }
}

SYNC_EXTRACTOR_COUNT=1 bench_services_start ranges
echo "== Warm-up (20,000 rows in ranges, not measured)" >&2
timed_run warmup >/dev/null
echo "== One read, one Extractor" >&2
one_s="$(timed_run one-read)"
check one_read
echo "== Ranges, one Extractor" >&2
r1_s="$(timed_run ranges-1)"
check ranges_1

"$SCRIPTS/services.sh" stop
SYNC_EXTRACTOR_COUNT=2 "$SCRIPTS/services.sh" start
sql sync_ranges_destination "TRUNCATE warmup"
sql sync_ranges_control "DELETE FROM sync_watermarks WHERE key = 'warmup'"
timed_run warmup >/dev/null
echo "== Ranges, two Extractors" >&2
r2_s="$(timed_run ranges-2)"
check ranges_2

echo "== Ranges, two Extractors, the first killed once a range is extracted" >&2
start="$(now)"
id="$(cli run ranges-kill)"
ranges=0
# Extraction runs ahead of loading: once one range is extracted, the others are being read.
until ((ranges > 0)) && (($(control "SELECT count(*) FROM sync_run_ranges WHERE run_id = '$id' AND extracted_at IS NOT NULL") > 0)); do
  ranges="$(control "SELECT coalesce(range_count, 0) FROM sync_runs WHERE correlation_id = '$id'")"
  sleep 0.1
done
loaded_at_kill="$(control "SELECT count(*) FROM sync_run_ranges WHERE run_id = '$id' AND loaded_at IS NOT NULL")"
kill -9 "$(cat "$SYNC_RUN_DIR/extractor.pid")"
wait_run "$id"
kill_s="$(secs "$start" "$(now)")"
check ranges_kill
read -r reread_ranges reread_rows reads < <(control "SELECT count(*) FILTER (WHERE reads > 1), coalesce(sum(row_count) FILTER (WHERE reads > 1), 0), sum(reads)
  FROM sync_run_ranges WHERE run_id = '$id'" | tr '|' ' ')

row() { printf '  %-44s %s\n' "$1" "$2"; }
timed() { printf '%7s s  %8s rows/s' "$1" "$(rate "$ROWS" "$1")"; }
echo
echo "initial load in key ranges, $ROWS rows, range_size $RANGE ($ranges ranges), batch size $BATCH, $(nproc) cores"
row "one read, 1 Extractor (no range_size)" "$(timed "$one_s")"
row "ranges, 1 Extractor" "$(timed "$r1_s")   $(ratio "$one_s" "$r1_s")× the one read's rate"
row "ranges, 2 Extractors" "$(timed "$r2_s")   $(ratio "$one_s" "$r2_s")× the one read's rate"
row "ranges, 2 Extractors, one killed" "$(timed "$kill_s")"
row "  ranges loaded when it was killed" "$loaded_at_kill of $ranges"
row "  ranges read again" "$reread_ranges ($reads reads for $ranges ranges)"
row "  rows in the ranges read again" "$reread_rows of $ROWS ($(awk -v a="$reread_rows" -v b="$ROWS" 'BEGIN { printf "%.1f", 100 * a / b }')%; a load in one read reads all again)"
