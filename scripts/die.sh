# scripts/die.sh — sourced by infra.sh and services.sh.
# die_with_logs WHO MESSAGE [LOGFILE…]: print "WHO: ERROR: MESSAGE" and the last lines of each
# existing log, then exit 1.
die_with_logs() {
  local who=$1 msg=$2 f
  shift 2
  printf '%s: ERROR: %s\n' "$who" "$msg" >&2
  for f in "$@"; do
    if [[ -s $f ]]; then
      printf -- '----- last lines of %s -----\n' "$f" >&2
      tail -n 40 "$f" >&2 || true
    fi
  done
  exit 1
}
