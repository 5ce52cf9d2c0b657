#!/usr/bin/env bash
# bench/verify.sh [ROWS] — `syncctl verify` beside the sync it checks (issue 15, item 3).
#
# Seeds ROWS orders-like rows (default 1,000,000) as bench/pg-to-pg.sh does, runs the job once
# through the four services (the sync time), then times
#   verify equal:  `syncctl verify` of the synced tables (exit 0 expected);
#   verify 10:     the same after 10 destination rows are changed, deleted or added (exit 1
#                  and exactly those 10 keys expected);
#   repair:        `syncctl verify --repair` (repair run + second verification, exit 0 expected).
# Target: verify equal ≤ the sync time, verify 10 ≤ twice it. Not a test: figures depend on the
# machine and on what else it runs.
set -euo pipefail

ROWS="${1:-${SYNC_BENCH_ROWS:-1000000}}"
BATCH="${SYNC_BENCH_BATCH:-5000}"
# shellcheck source=bench/lib.sh
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib.sh"

bench_build
bench_state vbench
bench_databases sync_vbench_source sync_vbench_destination sync_vbench_control
bench_orders_table sync_vbench_source sync_vbench_destination
bench_seed_orders sync_vbench_source "$ROWS"

cat >"$BENCH_STATE/jobs/vbench-orders.yml" <<YAML
name: vbench-orders
batch_size: $BATCH
mode: full_refresh
source: { type: postgres, connection: vbench_source, table: public.orders, cursor: updated_at, primary_key: [id] }
destination: { type: postgres, connection: vbench_destination, table: public.orders, key: [id], deletes: delete }
YAML
# The Extractor verifies: it needs the destination's connection as well as the source's.
bench_connection vbench_source sync_vbench_source
bench_connection vbench_destination sync_vbench_destination
bench_services_start vbench

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
found="$(cli verify vbench-orders --json)" && code=0 || code=$?
ten_s="$(secs "$start" "$(now)")"
# Exit 1 is not enough: the verification must name exactly the 10 planted keys.
keys="$(jq -r '.mismatches[] | "\(.kind):\(.key[0])"' <<<"$found" | LC_ALL=C sort | paste -sd' ')"
want="$(printf '%s\n' "different:1" "different:$((ROWS / 4))" "different:$((ROWS / 2))" "different:$((ROWS - 7))" \
  "missing:2" "missing:$((ROWS / 3))" "missing:$((ROWS - 3))" "extra:$((ROWS + 5))" "extra:$((ROWS + 6))" "extra:$((ROWS + 7))" | LC_ALL=C sort | paste -sd' ')"
[[ $code == 1 && "$keys" == "$want" ]] || { echo "bench: verify after planting 10 keys exited $code and found [$keys], expected 1 and [$want]" >&2; exit 1; }

echo "== Verify --repair" >&2
start="$(now)"
expect 0 cli verify vbench-orders --repair
repair_s="$(secs "$start" "$(now)")"

cat <<REPORT

verify, $ROWS rows, batch size $BATCH, $(nproc) cores
  sync initial load (4 services)        ${sync_s} s
  verify, equal                         ${equal_s} s   $(ratio "$equal_s" "$sync_s")× the sync (target ≤ 1)
  verify, 10 differing keys (found)     ${ten_s} s   $(ratio "$ten_s" "$sync_s")× the sync (target ≤ 2)
  verify --repair (run + verify again)  ${repair_s} s
REPORT
