#!/usr/bin/env bash
# scripts/infra.sh — private PostgreSQL 15 + RabbitMQ for local development and tests.
#
#   scripts/infra.sh up        install missing Debian packages, start both and the local S3
#                              server (s3rver from npm; idempotent, quiet)
#   scripts/infra.sh down      stop all three
#   scripts/infra.sh status    say what runs (exit 0 only when both run)
#   scripts/infra.sh env       print `export SYNC_…=…` lines (eval "$(scripts/infra.sh env)")
#   scripts/infra.sh reset     down, then delete the data (next `up` starts from scratch)
#   scripts/infra.sh logs      print the tail of the server logs
#   source scripts/infra.sh    export the SYNC_* variables into the current shell
#                              (`source scripts/infra.sh up` also starts things first)
# Internal subcommands used by the small wrappers next to this file:
#   pg-start | pg-stop | pg-restart | pg-status | psql ARGS…        (scripts/pg.sh)
#   rabbit-start | rabbit-stop | rabbit-restart                      (scripts/rabbit.sh)
#   rabbitmqctl ARGS…                                                (scripts/rabbitmqctl.sh)
#   broker-users [VHOST]   the services' RabbitMQ users on VHOST (default /; scripts/services.sh)
#   s3-start | s3-stop
#
# All state lives in $REPO/.sync (git-ignored): pg/ (PostgreSQL data, owned by postgres),
# pgrun/ (its unix socket), rabbitmq/ (mnesia, logs, pid, cookie, config; owned by rabbitmq),
# logs/, run/. When the postgres or rabbitmq user cannot reach the repo folder (e.g. under
# /root), .sync is a symlink to /var/tmp/sync-<hash of the repo path> instead.
#
# Settings come from the environment, else from .sync/infra.env (written by `up`, so later
# calls without the variables talk to the same instance), else from the defaults:
#   SYNC_PG_PORT           55432              PostgreSQL port (127.0.0.1 only)
#   SYNC_RABBIT_PORT       55672              AMQP port (127.0.0.1 only)
#   SYNC_RABBIT_DIST_PORT  SYNC_RABBIT_PORT+1 Erlang distribution port of the node
#   SYNC_EPMD_PORT         SYNC_RABBIT_PORT-1303 (54369) private epmd, on 127.0.0.1
#   SYNC_RABBIT_NODE       sync@localhost     Erlang node name
#   SYNC_RABBIT_MANAGEMENT 0                  1 = enable the management UI/API …
#   SYNC_RABBIT_MGMT_PORT  SYNC_RABBIT_PORT+8 … on 127.0.0.1:55680
#   SYNC_PG_BIN            /usr/lib/postgresql/15/bin
#   SYNC_S3_PORT           55900              s3rver (S3-compatible, 127.0.0.1 only; data in .sync/s3)
#   SYNC_S3RVER_DIR        ~/.cache/sync/s3rver-3.7.1  where `npm install s3rver@3.7.1` goes
#   SYNC_BROKER_USERS_DIR  .sync/broker-users the services' RabbitMQ passwords (see broker-users)
#   SYNC_BROKER_USER_PREFIX sync-             their user names: sync-coordinator, sync-extractor, …
#   SYNC_VERBOSE           0                  1 = say every step
# Two clones with different ports run side by side (each has its own epmd and data).

# ----------------------------------------------------------------------------------------------
# Configuration (safe to source: plain assignments, no `set -e` leaking into the caller)
# ----------------------------------------------------------------------------------------------

_sync_infra_self="$(readlink -f "${BASH_SOURCE[0]}")"
SYNC_SCRIPTS_DIR="$(dirname "$_sync_infra_self")"
SYNC_REPO="${SYNC_REPO:-$(dirname "$SYNC_SCRIPTS_DIR")}"

_sync_saved_keys=(SYNC_PG_PORT SYNC_RABBIT_PORT SYNC_RABBIT_DIST_PORT SYNC_EPMD_PORT
  SYNC_RABBIT_NODE SYNC_RABBIT_MANAGEMENT SYNC_RABBIT_MGMT_PORT SYNC_PG_BIN SYNC_S3_PORT)

_sync_config() {
  _STATE="$SYNC_REPO/.sync"
  # Through the fallback symlink the path may be unreachable for postgres/rabbitmq: always
  # hand them the real one.
  if [[ -L $_STATE ]]; then _STATE="$(readlink -f "$_STATE")"; fi
  _SAVED="$_STATE/infra.env"
  # Values saved by the last `up` fill in whatever the environment does not set.
  # The ports derived from the AMQP port are saved too; when the environment asks for another
  # AMQP port they would point at the old instance's, so they are derived again instead.
  if [[ -r $_SAVED ]]; then
    local line key val k saved_rabbit_port=""
    saved_rabbit_port="$(sed -n 's/^SYNC_RABBIT_PORT=//p' "$_SAVED")"
    while IFS= read -r line || [[ -n $line ]]; do
      [[ $line =~ ^([A-Z_]+)=(.*)$ ]] || continue
      key=${BASH_REMATCH[1]} val=${BASH_REMATCH[2]}
      if [[ -n ${SYNC_RABBIT_PORT:-} && $SYNC_RABBIT_PORT != "$saved_rabbit_port" ]] &&
        [[ $key == SYNC_RABBIT_DIST_PORT || $key == SYNC_EPMD_PORT || $key == SYNC_RABBIT_MGMT_PORT ]]; then
        continue
      fi
      for k in "${_sync_saved_keys[@]}"; do
        if [[ $k == "$key" && -z ${!key:-} ]]; then printf -v "$key" '%s' "$val"; fi
      done
    done <"$_SAVED"
  fi
  _PG_PORT="${SYNC_PG_PORT:-55432}"
  _RABBIT_PORT="${SYNC_RABBIT_PORT:-55672}"
  _DIST_PORT="${SYNC_RABBIT_DIST_PORT:-$((_RABBIT_PORT + 1))}"
  _EPMD_PORT="${SYNC_EPMD_PORT:-$((_RABBIT_PORT - 1303))}"
  _NODE="${SYNC_RABBIT_NODE:-sync@localhost}"
  _MGMT="${SYNC_RABBIT_MANAGEMENT:-0}"
  _MGMT_PORT="${SYNC_RABBIT_MGMT_PORT:-$((_RABBIT_PORT + 8))}"
  _PG_BIN="${SYNC_PG_BIN:-/usr/lib/postgresql/15/bin}"
  _RMQ_BIN=/usr/lib/rabbitmq/bin
  _S3_PORT="${SYNC_S3_PORT:-55900}"
  _S3RVER_VERSION=3.7.1
  _S3RVER_DIR="${SYNC_S3RVER_DIR:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/sync/s3rver-$_S3RVER_VERSION}"
  _HOST=127.0.0.1
  _USER=sync
  _PASSWORD=sync

  _LOGS="$_STATE/logs"
  _RUN="$_STATE/run"
  _PGDATA="$_STATE/pg"
  _PGLOG="$_LOGS/postgresql.log"
  _RMQ="$_STATE/rabbitmq"
  _RMQ_LOG="$_RMQ/log"
  _RMQ_PID="$_RMQ/$_NODE.pid"
  _S3_DATA="$_STATE/s3"
  _S3_PID="$_RUN/s3rver.pid"
  _S3_LOG="$_LOGS/s3rver.log"
  # Unix socket paths are limited to 107 bytes: use a short folder when the repo path is long.
  _PGSOCK="$_STATE/pgrun"
  if ((${#_PGSOCK} > 80)); then
    _PGSOCK="/tmp/sync-pg-$(printf '%s' "$SYNC_REPO" | sha1sum | cut -c1-12)"
  fi

  # Environment of the RabbitMQ server and of its CLI (same cookie through HOME).
  _RMQ_ENV=(
    HOME="$_RMQ"
    RABBITMQ_NODENAME="$_NODE"
    RABBITMQ_NODE_IP_ADDRESS="$_HOST"
    RABBITMQ_NODE_PORT="$_RABBIT_PORT"
    RABBITMQ_DIST_PORT="$_DIST_PORT"
    ERL_EPMD_ADDRESS="$_HOST"
    ERL_EPMD_PORT="$_EPMD_PORT"
    RABBITMQ_MNESIA_BASE="$_RMQ/mnesia"
    RABBITMQ_LOG_BASE="$_RMQ_LOG"
    RABBITMQ_PID_FILE="$_RMQ_PID"
    RABBITMQ_ENABLED_PLUGINS_FILE="$_RMQ/enabled_plugins"
    RABBITMQ_CONFIG_FILE="$_RMQ/rabbitmq.conf"
    RABBITMQ_ADVANCED_CONFIG_FILE="$_RMQ/advanced.config"
    RABBITMQ_CONF_ENV_FILE="$_RMQ/rabbitmq-env.conf"
    RABBITMQ_USE_LONGNAME=false
    RABBITMQ_CTL_DIST_PORT_MIN=35672
    RABBITMQ_CTL_DIST_PORT_MAX=35772
    # Erlang distribution on loopback only (it listens on all interfaces otherwise).
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
  )
}

_sync_q() { printf '%q' "$1"; }

_sync_print_env() {
  local s
  s="$(_sync_q "$SYNC_SCRIPTS_DIR")"
  cat <<EOF
export SYNC_PG_HOST=$_HOST
export SYNC_PG_PORT=$_PG_PORT
export SYNC_PG_USER=$_USER
export SYNC_PG_PASSWORD=$_PASSWORD
export SYNC_PG_CONNECTION=$(_sync_q "Host=$_HOST;Port=$_PG_PORT;Username=$_USER;Password=$_PASSWORD")
export SYNC_RABBIT_HOST=$_HOST
export SYNC_RABBIT_PORT=$_RABBIT_PORT
export SYNC_RABBIT_USER=$_USER
export SYNC_RABBIT_PASSWORD=$_PASSWORD
export SYNC_RABBIT_VHOST=/
export SYNC_RABBIT_NODE=$(_sync_q "$_NODE")
export SYNC_RABBIT_DIST_PORT=$_DIST_PORT
export SYNC_EPMD_PORT=$_EPMD_PORT
export SYNC_RABBIT_MANAGEMENT=$_MGMT
export SYNC_RABBIT_MGMT_PORT=$_MGMT_PORT
export SYNC_RABBITMQCTL=$(_sync_q "$s/rabbitmqctl.sh")
export SYNC_PG_CTL_STOP=$(_sync_q "$s/pg.sh stop")
export SYNC_PG_CTL_START=$(_sync_q "$s/pg.sh start")
export SYNC_RABBIT_STOP=$(_sync_q "$s/rabbit.sh stop")
export SYNC_RABBIT_START=$(_sync_q "$s/rabbit.sh start")
export SYNC_S3_PORT=$_S3_PORT
export SYNC_S3_ENDPOINT=http://$_HOST:$_S3_PORT
export SYNC_S3_ACCESS_KEY=S3RVER
export SYNC_S3_SECRET_KEY=S3RVER
export SYNC_S3_REGION=us-east-1
EOF
}

# ----------------------------------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------------------------------

_say() { if [[ ${SYNC_VERBOSE:-0} == 1 ]]; then printf 'infra: %s\n' "$*" >&2; fi; }
_note() { printf 'infra: %s\n' "$*" >&2; }

# _die MESSAGE [LOGFILE…]: print the message and the tail of each existing log, exit 1.
# shellcheck source=scripts/die.sh
source "$SYNC_SCRIPTS_DIR/die.sh"
_die() { die_with_logs infra "$@"; }

_is_root() { ((EUID == 0)); }

# _as USER CMD…: run as USER when we are root; otherwise as ourselves (we own the state then).
_as() {
  local u=$1
  shift
  if _is_root && [[ $u != root ]]; then runuser -u "$u" -- "$@"; else "$@"; fi
}

# _own USER PATH…: give paths to USER (only when root; otherwise we own them already).
_own() {
  local u=$1
  shift
  if _is_root; then chown "$u:$(id -gn "$u")" "$@"; fi
}

# shellcheck disable=SC2016 # $0/$1 expand in the inner bash
_port_open() { timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$_HOST" "$1" 2>/dev/null; }

# Who holds a TCP port on loopback (for error messages).
_port_holder() {
  command -v ss >/dev/null 2>&1 || return 0
  ss -Hltnp "sport = :$1" 2>/dev/null | head -n 3
}

# One lock per repo, outside .sync (whose location is decided only once the packages, and so
# the postgres and rabbitmq users, exist).
_lock() {
  local f
  f="${TMPDIR:-/tmp}/sync-infra-$(printf '%s' "$SYNC_REPO" | sha1sum | cut -c1-12).lock"
  exec 9>>"$f"
  flock -w 600 9 || _die "could not lock $f (another infra.sh is busy?)"
}

# ----------------------------------------------------------------------------------------------
# Packages
# ----------------------------------------------------------------------------------------------

_have_pg() { [[ -x $_PG_BIN/postgres && -x $_PG_BIN/initdb && -x $_PG_BIN/pg_ctl && -x $_PG_BIN/psql ]]; }
_have_rabbit() { [[ -x $_RMQ_BIN/rabbitmq-server && -x $_RMQ_BIN/rabbitmqctl ]] && command -v erl >/dev/null 2>&1; }

_ensure_packages() {
  local need=() rabbit_new=0
  _have_pg || need+=(postgresql-15 postgresql-client-15)
  if ! _have_rabbit; then need+=(rabbitmq-server) rabbit_new=1; fi
  command -v runuser >/dev/null 2>&1 || need+=(util-linux)
  command -v flock >/dev/null 2>&1 || need+=(util-linux)
  command -v curl >/dev/null 2>&1 || need+=(curl)
  command -v ss >/dev/null 2>&1 || need+=(iproute2)
  command -v node >/dev/null 2>&1 || need+=(nodejs)
  command -v npm >/dev/null 2>&1 || need+=(npm)
  ((${#need[@]})) || return 0

  local sudo=()
  if ! _is_root; then
    command -v sudo >/dev/null 2>&1 || _die "missing packages (${need[*]}) and not root: install them first"
    sudo=(sudo -n)
  fi
  command -v apt-get >/dev/null 2>&1 || _die "missing packages (${need[*]}) and no apt-get"
  local log="${TMPDIR:-/tmp}/sync-apt.log"
  _note "installing ${need[*]} (apt-get, log in $log)…"
  local opts=(-y -q -o DPkg::Lock::Timeout=300 -o Dpkg::Options::=--force-confdef
    -o Dpkg::Options::=--force-confold --no-install-recommends)
  {
    "${sudo[@]}" apt-get -q -o DPkg::Lock::Timeout=300 update &&
      "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install "${opts[@]}" "${need[@]}"
  } >>"$log" 2>&1 </dev/null || _die "apt-get install ${need[*]} failed" "$log"
  _have_pg || _die "PostgreSQL binaries still missing in $_PG_BIN after install (set SYNC_PG_BIN?)"
  _have_rabbit || _die "RabbitMQ still missing after install" "$log"

  # The package starts a system-wide node (rabbit@host, ports 5672/4369) unless policy-rc.d
  # forbids it. It would not collide with ours, but we do not want it: stop and disable it.
  if ((rabbit_new)) && _is_root; then
    if epmd -names 2>/dev/null | grep -q '^name rabbit '; then
      _say "stopping the system rabbitmq-server service started by the package install"
      if [[ -d /run/systemd/system ]]; then
        timeout 120 systemctl stop rabbitmq-server >/dev/null 2>&1 || true
        systemctl disable rabbitmq-server >/dev/null 2>&1 || true
      else
        timeout 120 service rabbitmq-server stop >/dev/null 2>&1 ||
          timeout 60 rabbitmqctl stop >/dev/null 2>&1 || true
        update-rc.d rabbitmq-server disable >/dev/null 2>&1 || true
      fi
    fi
  fi
}

# ----------------------------------------------------------------------------------------------
# State folders
# ----------------------------------------------------------------------------------------------

_user_can_reach() { # USER DIR
  if ! _is_root; then return 0; fi
  runuser -u "$1" -- test -x "$2" 2>/dev/null
}

_ensure_dirs() {
  local users=(postgres rabbitmq) u
  if _is_root; then
    for u in "${users[@]}"; do
      id -u "$u" >/dev/null 2>&1 || _die "system user '$u' is missing (package install incomplete?)"
    done
  fi

  local link="$SYNC_REPO/.sync"
  if [[ -L $link ]]; then
    # Fallback folder from an earlier run (it may have been cleaned from /var/tmp meanwhile).
    local target
    target="$(readlink "$link")"
    mkdir -p "$target" && chmod 755 "$target"
  else
    local ok=1
    for u in "${users[@]}"; do _user_can_reach "$u" "$SYNC_REPO" || ok=0; done
    if ((ok)); then
      mkdir -p "$link"
      chmod 755 "$link"
    else
      local fb
      fb="/var/tmp/sync-$(printf '%s' "$SYNC_REPO" | sha1sum | cut -c1-12)"
      _say "postgres/rabbitmq cannot reach $SYNC_REPO: state goes to $fb"
      mkdir -p "$fb"
      chmod 755 "$fb"
      if [[ -d $link ]]; then
        # A .sync made before (only logs in it, say): move what it has to the fallback.
        [[ ! -e $link/pg/PG_VERSION && ! -d $link/rabbitmq/mnesia ]] ||
          _die "users postgres/rabbitmq cannot reach the data in $link: make $SYNC_REPO reachable (chmod o+x on its parents)"
        cp -a "$link/." "$fb/" && rm -rf "${link:?}"
      fi
      ln -sfn "$fb" "$link"
    fi
    _sync_config # the socket path depends on where .sync really is
  fi
  # The folder we recorded may sit under a path a service user cannot reach either.
  for u in "${users[@]}"; do
    _user_can_reach "$u" "$(readlink -f "$_STATE")" || _die "user $u cannot reach $(readlink -f "$_STATE")"
  done

  mkdir -p "$_LOGS" "$_RUN"
  chmod 755 "$_LOGS" "$_RUN"
  [[ -e $_LOGS/rabbitmq ]] || ln -sfn ../rabbitmq/log "$_LOGS/rabbitmq"

  mkdir -p "$_PGDATA" "$_PGSOCK"
  chmod 700 "$_PGDATA"
  chmod 755 "$_PGSOCK"
  _own postgres "$_PGDATA" "$_PGSOCK"
  touch "$_PGLOG"
  _own postgres "$_PGLOG"

  mkdir -p "$_RMQ" "$_RMQ/mnesia" "$_RMQ_LOG"
  chmod 755 "$_RMQ" "$_RMQ_LOG"
  _own rabbitmq "$_RMQ" "$_RMQ/mnesia" "$_RMQ_LOG"
}

_save_config() {
  local tmp="$_SAVED.tmp"
  _config_text >"$tmp"
  mv -f "$tmp" "$_SAVED"
}

_config_text() {
  {
    echo "# written by scripts/infra.sh up; the environment overrides these"
    echo "SYNC_PG_PORT=$_PG_PORT"
    echo "SYNC_RABBIT_PORT=$_RABBIT_PORT"
    echo "SYNC_RABBIT_DIST_PORT=$_DIST_PORT"
    echo "SYNC_EPMD_PORT=$_EPMD_PORT"
    echo "SYNC_RABBIT_NODE=$_NODE"
    echo "SYNC_RABBIT_MANAGEMENT=$_MGMT"
    echo "SYNC_RABBIT_MGMT_PORT=$_MGMT_PORT"
    echo "SYNC_PG_BIN=$_PG_BIN"
    echo "SYNC_S3_PORT=$_S3_PORT"
  }
}

# ----------------------------------------------------------------------------------------------
# PostgreSQL
# ----------------------------------------------------------------------------------------------

_pg_ctl() { (cd / && _as postgres "$_PG_BIN/pg_ctl" -D "$_PGDATA" "$@"); }

# A process that is alive, not a zombie: pg_ctl (and kill -0) count zombies as running, and
# some sandboxes' init reaps orphans only after a while.
_alive() { [[ -r /proc/$1/stat ]] && ! grep -Eq '^[0-9]+ \(.*\) Z' "/proc/$1/stat" 2>/dev/null; }

_pg_postmaster_pid() { _as postgres head -n 1 "$_PGDATA/postmaster.pid" 2>/dev/null; }

_pg_running() {
  local pid
  _have_pg && [[ -d $_PGDATA ]] || return 1
  pid="$(_pg_postmaster_pid)" && [[ $pid =~ ^[0-9]+$ ]] && _alive "$pid" || return 1
  _pg_ctl status >/dev/null 2>&1
}

# After a crash the old postmaster may linger as a zombie, which makes `pg_ctl start` refuse
# ("lock file postmaster.pid already exists"): wait for it to be reaped.
_pg_wait_zombie() {
  local pid deadline=$((SECONDS + 20))
  pid="$(_pg_postmaster_pid)" && [[ $pid =~ ^[0-9]+$ ]] || return 0
  while [[ -e /proc/$pid ]] && ! _alive "$pid" && ((SECONDS < deadline)); do sleep 0.3; done
}

# Port the running server was started with (from postmaster.pid, line 4).
_pg_running_port() { _as postgres sed -n 4p "$_PGDATA/postmaster.pid" 2>/dev/null; }

# shellcheck disable=SC2120
_pg_psql_admin() { # ARGS… : psql as the postgres superuser over the unix socket (trust)
  (cd / && _as postgres "$_PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$_PGSOCK" -p "$_PG_PORT" -U postgres -d postgres "$@")
}

_pg_init() {
  [[ -f $_PGDATA/.sync-initdb-ok ]] && return 0
  _say "initdb $_PGDATA"
  # A half-made cluster (initdb interrupted) is thrown away and made again.
  find "${_PGDATA:?}" -mindepth 1 -delete 2>/dev/null || true
  local locale=(--no-locale)
  if locale -a 2>/dev/null | grep -qix 'c.utf-\?8'; then locale=(--locale=C.UTF-8); fi
  (cd / && _as postgres "$_PG_BIN/initdb" -D "$_PGDATA" -U postgres -E UTF8 "${locale[@]}" \
    --auth-local=trust --auth-host=scram-sha-256) >"$_LOGS/initdb.log" 2>&1 </dev/null ||
    _die "initdb failed" "$_LOGS/initdb.log"
  _as postgres touch "$_PGDATA/.sync-initdb-ok"
}

_pg_configure() {
  # Our settings live in sync.conf (rewritten at every start), included from postgresql.conf.
  local conf="$_PGDATA/postgresql.conf"
  if ! _as postgres grep -q "^include_if_exists = 'sync.conf'" "$conf"; then
    printf "\n# Sync dev/test settings (scripts/infra.sh)\ninclude_if_exists = 'sync.conf'\n" |
      _as postgres tee -a "$conf" >/dev/null
  fi
  _as postgres tee "$_PGDATA/sync.conf" >/dev/null <<EOF
# Written by scripts/infra.sh at every start: edits here are lost.
# DEV/TEST SETTINGS ONLY: fsync, synchronous_commit and full_page_writes are off, which trades
# crash safety for speed. Never use them for data you care about.
listen_addresses = '$_HOST'
port = $_PG_PORT
unix_socket_directories = '$_PGSOCK'
max_connections = 300
shared_buffers = 256MB
wal_level = logical
max_replication_slots = 16
max_wal_senders = 16
# Prepared transactions exist in production sources; the cursor-safety tests hold one open.
max_prepared_transactions = 16
fsync = off
synchronous_commit = off
full_page_writes = off
password_encryption = scram-sha-256
timezone = 'UTC'
log_timezone = 'UTC'
log_line_prefix = '%m [%p] %q%u@%d '
log_min_messages = warning
EOF
  # Unix socket: trust (used by this script as postgres). TCP on loopback: password (scram).
  _as postgres tee "$_PGDATA/pg_hba.conf" >/dev/null <<EOF
# Written by scripts/infra.sh at every start.
# TYPE  DATABASE     USER  ADDRESS        METHOD
local   all          all                  trust
local   replication  all                  trust
host    all          all   127.0.0.1/32   scram-sha-256
host    replication  all   127.0.0.1/32   scram-sha-256
host    all          all   ::1/128        scram-sha-256
host    replication  all   ::1/128        scram-sha-256
EOF
}

_pg_provision() {
  # Superuser `sync`/`sync` and a database named like it (Npgsql's default database).
  # shellcheck disable=SC2119
  _pg_psql_admin >>"$_PGLOG" 2>&1 <<'EOF' || _die "could not create the sync role/database" "$_PGLOG"
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'sync') THEN
    CREATE ROLE sync LOGIN SUPERUSER REPLICATION PASSWORD 'sync';
  ELSE
    ALTER ROLE sync LOGIN SUPERUSER REPLICATION PASSWORD 'sync';
  END IF;
END
$$;
SELECT 'CREATE DATABASE sync OWNER sync' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'sync')
\gexec
EOF
}

_pg_start() {
  if _pg_running; then
    local p
    p="$(_pg_running_port)"
    if [[ -n $p && $p != "$_PG_PORT" ]]; then
      _die "PostgreSQL of $SYNC_REPO already runs on port $p, not $_PG_PORT: run 'scripts/infra.sh down' first"
    fi
    _say "PostgreSQL already running on $_PG_PORT"
    return 0
  fi
  _pg_init
  _pg_configure
  _pg_wait_zombie
  if _port_open "$_PG_PORT"; then
    _die "port $_HOST:$_PG_PORT is taken by another program: set SYNC_PG_PORT$(printf '\n%s' "$(_port_holder "$_PG_PORT")")"
  fi
  _say "starting PostgreSQL on $_HOST:$_PG_PORT"
  local before
  before=$(wc -c <"$_PGLOG" 2>/dev/null || echo 0)
  if ! (_pg_ctl start -w -t 90 -s -l "$_PGLOG") >>"$_LOGS/pg_ctl.log" 2>&1 </dev/null 9>&-; then
    tail -c +"$((before + 1))" "$_PGLOG" >"$_LOGS/postgresql.last-start.log" 2>/dev/null || true
    _die "PostgreSQL did not start on port $_PG_PORT" "$_LOGS/pg_ctl.log" "$_LOGS/postgresql.last-start.log"
  fi
  _pg_provision
}

_pg_stop() {
  if ! _pg_running; then
    _say "PostgreSQL not running"
    return 0
  fi
  _say "stopping PostgreSQL"
  if ! (_pg_ctl stop -m fast -w -t 60 -s) >>"$_LOGS/pg_ctl.log" 2>&1 </dev/null; then
    (_pg_ctl stop -m immediate -w -t 30 -s) >>"$_LOGS/pg_ctl.log" 2>&1 </dev/null ||
      _die "PostgreSQL did not stop" "$_LOGS/pg_ctl.log" "$_PGLOG"
  fi
}

# ----------------------------------------------------------------------------------------------
# RabbitMQ
# ----------------------------------------------------------------------------------------------

# rabbitmqctl against our node, as the rabbitmq user (same HOME, so the same Erlang cookie).
# _RMQ_TIMEOUT=SECONDS bounds the call.
_rmqctl() {
  local t=()
  [[ -n ${_RMQ_TIMEOUT:-} ]] && t=(timeout "$_RMQ_TIMEOUT")
  (cd "$_RMQ" 2>/dev/null || cd /; _as rabbitmq "${t[@]}" env "${_RMQ_ENV[@]}" "$_RMQ_BIN/rabbitmqctl" -n "$_NODE" "$@")
}

_rmq_pid() {
  local pid
  pid="$(cat "$_RMQ_PID" 2>/dev/null)" || return 1
  [[ $pid =~ ^[0-9]+$ ]] && _alive "$pid" || return 1
  # The node name is not on the VM's command line, but our HOME is: "-home <.sync/rabbitmq>".
  tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -qxF -- "$_RMQ" || return 1
  echo "$pid"
}

_rmq_node_alive() { _rmq_pid >/dev/null; }

_rmq_configure() {
  local cookie="$_RMQ/.erlang.cookie"
  if [[ ! -s $cookie ]]; then
    (umask 077 && head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' | tr a-f A-F >"$cookie")
    chmod 400 "$cookie"
    _own rabbitmq "$cookie"
  fi
  local plugins='[].'
  [[ $_MGMT == 1 ]] && plugins='[rabbitmq_management].'
  printf '%s\n' "$plugins" >"$_RMQ/enabled_plugins"
  : >"$_RMQ/rabbitmq-env.conf" # keeps /etc/rabbitmq/rabbitmq-env.conf out of our node
  echo '[].' >"$_RMQ/advanced.config"
  {
    echo "# Written by scripts/infra.sh at every start: edits here are lost."
    echo "# The user sync/sync (administrator, all permissions on /) is made on first boot."
    echo "default_user = $_USER"
    echo "default_pass = $_PASSWORD"
    echo "default_user_tags.administrator = true"
    echo "default_permissions.configure = .*"
    echo "default_permissions.read = .*"
    echo "default_permissions.write = .*"
    echo "loopback_users = none"
    echo "disk_free_limit.absolute = 50MB"
    echo "log.console = false"
    echo "log.file.level = ${SYNC_RABBIT_LOG_LEVEL:-info}"
    if [[ $_MGMT == 1 ]]; then
      echo "management.tcp.ip = $_HOST"
      echo "management.tcp.port = $_MGMT_PORT"
    fi
  } >"$_RMQ/rabbitmq.conf"
  _own rabbitmq "$_RMQ/enabled_plugins" "$_RMQ/rabbitmq-env.conf" "$_RMQ/advanced.config" "$_RMQ/rabbitmq.conf"
}

_rmq_provision() {
  local users
  users="$(_rmqctl -q list_users 2>>"$_LOGS/rabbitmqctl.log")" || _die "rabbitmqctl list_users failed" "$_LOGS/rabbitmqctl.log"
  if ! grep -Eq "^${_USER}[[:space:]].*administrator" <<<"$users"; then
    _say "creating RabbitMQ user $_USER"
    {
      _rmqctl -q add_user "$_USER" "$_PASSWORD" || _rmqctl -q change_password "$_USER" "$_PASSWORD"
      _rmqctl -q set_user_tags "$_USER" administrator &&
        _rmqctl -q set_permissions -p / "$_USER" '.*' '.*' '.*'
    } >>"$_LOGS/rabbitmqctl.log" 2>&1 || _die "could not create the RabbitMQ user $_USER" "$_LOGS/rabbitmqctl.log"
  fi
  _rmq_broker_users /
}

# One broker user per service, ${SYNC_BROKER_USER_PREFIX:-sync-}<service>, with only the
# permissions deploy/rabbitmq/permissions.tsv gives it on VHOST (issue 20). Each password is made
# once, at random, into ${SYNC_BROKER_USERS_DIR:-.sync/broker-users}/<service> (this user's only),
# which scripts/services.sh hands to its service as RabbitMq__Password_FILE. Idempotent: a user that
# exists keeps its password unless its file is new, and its permissions are set only when they differ.
_rmq_broker_users() { # VHOST
  local vhost=${1:-/} dir="${SYNC_BROKER_USERS_DIR:-$_STATE/broker-users}" prefix="${SYNC_BROKER_USER_PREFIX:-sync-}"
  local table="$SYNC_SCRIPTS_DIR/../deploy/rabbitmq/permissions.tsv" log="$_LOGS/rabbitmqctl.log"
  local users grants service configure write read user file fresh
  [[ -r $table ]] || _die "cannot read $table"
  mkdir -p "$dir" "$_LOGS"
  chmod 700 "$dir"
  users="$(_rmqctl -q list_users --no-table-headers 2>>"$log")" || _die "rabbitmqctl list_users failed" "$log"
  grants="$(_rmqctl -q list_permissions -p "$vhost" --no-table-headers 2>>"$log")" ||
    _die "rabbitmqctl list_permissions -p $vhost failed (no such virtual host?)" "$log"
  while IFS=$'\t' read -r -u 3 service configure write read; do
    [[ -n $service && $service != \#* ]] || continue
    user="$prefix$service" file="$dir/$service" fresh=0
    if [[ ! -s $file ]]; then
      # Letters and digits only: rabbitmqctl takes a password that starts with "-" for an option.
      (umask 077 && head -c 32 /dev/urandom | base64 | tr -d '+/=\n' >"$file")
      fresh=1
    fi
    if ! awk -F '\t' -v u="$user" '$1 == u { found = 1 } END { exit !found }' <<<"$users"; then
      _say "creating RabbitMQ user $user"
      _rmqctl -q add_user "$user" "$(cat "$file")" >>"$log" 2>&1 || _die "could not create the RabbitMQ user $user" "$log"
    elif ((fresh)); then
      _rmqctl -q change_password "$user" "$(cat "$file")" >>"$log" 2>&1 || _die "could not set the password of $user" "$log"
    fi
    if ! grep -Fxq -- "$user"$'\t'"$configure"$'\t'"$write"$'\t'"$read" <<<"$grants"; then
      _say "setting the permissions of $user on $vhost"
      _rmqctl -q set_permissions -p "$vhost" "$user" "$configure" "$write" "$read" >>"$log" 2>&1 ||
        _die "could not set the permissions of $user on $vhost" "$log"
    fi
  done 3<"$table"
}

# Start the node without waiting (so PostgreSQL can start meanwhile); _rmq_wait finishes.
_rmq_launch() {
  _RMQ_LAUNCHED=0
  if _rmq_node_alive; then
    _say "RabbitMQ node $_NODE already running"
    return 0
  fi
  local p
  for p in "$_RABBIT_PORT" "$_DIST_PORT"; do
    if _port_open "$p"; then
      _die "port $_HOST:$p is taken by another program: set SYNC_RABBIT_PORT / SYNC_RABBIT_DIST_PORT$(printf '\n%s' "$(_port_holder "$p")")"
    fi
  done
  _rmq_configure
  rm -f "$_RMQ_PID"
  _say "starting RabbitMQ node $_NODE on $_HOST:$_RABBIT_PORT"
  # -detached forks the VM (and epmd) away; close our lock fd and stdio in them.
  (cd "$_RMQ" && _as rabbitmq env "${_RMQ_ENV[@]}" "$_RMQ_BIN/rabbitmq-server" -detached) \
    >"$_RMQ_LOG/startup.log" 2>&1 </dev/null 9>&- ||
    _die "rabbitmq-server -detached failed" "$_RMQ_LOG/startup.log"
  _RMQ_LAUNCHED=1
}

_rmq_logs() { echo "$_RMQ_LOG/startup.log" "$_RMQ_LOG/$_NODE.log"; }

_rmq_wait() {
  local deadline=$((SECONDS + ${SYNC_RABBIT_START_TIMEOUT:-120}))
  # The pid file appears once the VM runs; the AMQP listener opens at the end of the boot.
  until _rmq_node_alive; do
    if ((SECONDS > deadline)); then
      # shellcheck disable=SC2046
      _die "RabbitMQ node $_NODE did not come up" $(_rmq_logs)
    fi
    sleep 0.2
  done
  if ((!_RMQ_LAUNCHED)) && ! _port_open "$_RABBIT_PORT"; then
    # Node up but its app stopped (e.g. after `scripts/rabbit.sh stop`): start the app.
    _say "starting the RabbitMQ application on $_NODE"
    _RMQ_TIMEOUT=120 _rmqctl -q start_app >>"$_LOGS/rabbitmqctl.log" 2>&1 || true
  fi
  until _port_open "$_RABBIT_PORT"; do
    if ! _rmq_node_alive; then
      # shellcheck disable=SC2046
      _die "RabbitMQ node $_NODE stopped during startup" $(_rmq_logs) "$_LOGS/rabbitmqctl.log"
    fi
    if ((SECONDS > deadline)); then
      # shellcheck disable=SC2046
      _die "RabbitMQ does not accept AMQP connections on $_HOST:$_RABBIT_PORT" $(_rmq_logs) "$_LOGS/rabbitmqctl.log"
    fi
    sleep 0.2
  done
  if ((_RMQ_LAUNCHED)); then _rmq_provision; fi
}

_rmq_stop() {
  local pid
  if ! pid="$(_rmq_pid)"; then
    _say "RabbitMQ not running"
  else
    _say "stopping RabbitMQ node $_NODE"
    _RMQ_TIMEOUT=90 _rmqctl -q stop "$_RMQ_PID" >>"$_LOGS/rabbitmqctl.log" 2>&1 || true
    for _ in $(seq 1 100); do
      [[ -d /proc/$pid ]] || break
      sleep 0.1
    done
    if [[ -d /proc/$pid ]]; then
      _note "RabbitMQ did not stop in time, killing pid $pid"
      kill -TERM "$pid" 2>/dev/null || true
      sleep 5
      kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$_RMQ_PID"
  fi
  # Our private epmd: stop it when no node is registered any more.
  if command -v epmd >/dev/null 2>&1; then
    local names
    names="$(ERL_EPMD_ADDRESS=$_HOST _as rabbitmq epmd -port "$_EPMD_PORT" -names 2>/dev/null)" || return 0
    if ! grep -q '^name ' <<<"$names"; then
      ERL_EPMD_ADDRESS=$_HOST _as rabbitmq epmd -port "$_EPMD_PORT" -kill >/dev/null 2>&1 || true
    fi
  fi
}

# ----------------------------------------------------------------------------------------------
# S3 (s3rver: an S3-compatible server on Node.js, for the s3 destination and S3 file sources)
# ----------------------------------------------------------------------------------------------

_s3rver_bin() { echo "$_S3RVER_DIR/node_modules/.bin/s3rver"; }

_s3_install() {
  [[ -x $(_s3rver_bin) ]] && return 0
  local log="$_LOGS/s3rver-install.log"
  _note "installing s3rver $_S3RVER_VERSION (npm, into $_S3RVER_DIR; log in $log)…"
  mkdir -p "$_S3RVER_DIR"
  (cd "$_S3RVER_DIR" && npm install --no-audit --no-fund --no-save --loglevel=error "s3rver@$_S3RVER_VERSION") \
    >>"$log" 2>&1 </dev/null || _die "npm install s3rver@$_S3RVER_VERSION failed" "$log"
  [[ -x $(_s3rver_bin) ]] || _die "s3rver missing in $_S3RVER_DIR after npm install" "$log"
}

_s3_pid() {
  local pid
  pid="$(cat "$_S3_PID" 2>/dev/null)" || return 1
  [[ -n $pid ]] && _alive "$pid" && grep -qa s3rver "/proc/$pid/cmdline" 2>/dev/null && echo "$pid"
}

_s3_running() { _s3_pid >/dev/null && _port_open "$_S3_PORT"; }

_s3_start() {
  if _s3_pid >/dev/null; then
    _s3_wait
    return 0
  fi
  if _port_open "$_S3_PORT"; then
    _die "port $_S3_PORT (SYNC_S3_PORT) is taken by another process: $(_port_holder "$_S3_PORT")"
  fi
  _s3_install
  mkdir -p "$_S3_DATA"
  _say "starting s3rver on $_HOST:$_S3_PORT"
  # setsid: the server outlives this script and the caller's terminal, like pg_ctl and rabbitmq-server -detached.
  setsid "$(_s3rver_bin)" -d "$_S3_DATA" -a "$_HOST" -p "$_S3_PORT" --silent \
    >>"$_S3_LOG" 2>&1 </dev/null 9>&- &
  echo $! >"$_S3_PID"
  _s3_wait
}

_s3_wait() {
  local i
  for i in $(seq 1 120); do
    # Any HTTP answer (an unsigned ListBuckets) means it serves.
    if curl -s -o /dev/null -m 2 "http://$_HOST:$_S3_PORT/"; then return 0; fi
    # Alive is enough here: while setsid and env exec their way to node, /proc/PID/cmdline can be
    # read empty, which made a loaded machine report a starting server as exited.
    _alive "$(cat "$_S3_PID" 2>/dev/null)" || _die "s3rver exited during start-up" "$_S3_LOG"
    sleep 0.25
  done
  _die "s3rver did not answer on $_HOST:$_S3_PORT within 30 s" "$_S3_LOG"
}

_s3_stop() {
  local pid i
  pid="$(_s3_pid)" || {
    rm -f "$_S3_PID"
    return 0
  }
  kill "$pid" 2>/dev/null || true
  for i in $(seq 1 80); do
    _alive "$pid" || break
    sleep 0.25
  done
  _alive "$pid" && kill -9 "$pid" 2>/dev/null
  rm -f "$_S3_PID"
}

# ----------------------------------------------------------------------------------------------
# Commands
# ----------------------------------------------------------------------------------------------

# Refuse to reconfigure what runs: the running instance was started with the saved settings.
_check_running_matches() {
  local k v want
  if _pg_running; then
    v="$(_pg_running_port)"
    if [[ -n $v && $v != "$_PG_PORT" ]]; then
      _die "PostgreSQL of $SYNC_REPO already runs on port $v, not $_PG_PORT: run 'scripts/infra.sh down' first"
    fi
  fi
  [[ -r $_SAVED ]] && _rmq_node_alive || return 0
  while IFS='=' read -r k v; do
    case $k in
      SYNC_RABBIT_PORT) want=$_RABBIT_PORT ;;
      SYNC_RABBIT_DIST_PORT) want=$_DIST_PORT ;;
      SYNC_EPMD_PORT) want=$_EPMD_PORT ;;
      SYNC_RABBIT_NODE) want=$_NODE ;;
      *) continue ;;
    esac
    if [[ $v != "$want" ]]; then
      _die "RabbitMQ of $SYNC_REPO already runs with $k=$v, not $want: run 'scripts/infra.sh down' first"
    fi
  done <"$_SAVED"
}

_cmd_up() {
  # Already running as configured: quick no-op (no package checks, no CLI calls).
  if _have_pg && _have_rabbit && [[ -d $_STATE ]] && _pg_running &&
    [[ $(_pg_running_port) == "$_PG_PORT" ]] && _rmq_node_alive && _port_open "$_RABBIT_PORT" &&
    _port_open "$_PG_PORT" && _s3_running && [[ $(cat "$_SAVED" 2>/dev/null) == "$(_config_text)" ]]; then
    return 0
  fi
  _lock
  _check_running_matches
  _ensure_packages
  _ensure_dirs
  _rmq_launch
  _pg_start
  _s3_start
  _rmq_wait
  _save_config
  _say "up: PostgreSQL $_HOST:$_PG_PORT, RabbitMQ $_HOST:$_RABBIT_PORT ($_NODE)"
}

_cmd_down() {
  [[ -d $_STATE ]] || return 0
  _lock
  _pg_stop
  _s3_stop
  if [[ -x $_RMQ_BIN/rabbitmqctl ]]; then _rmq_stop; fi
}

_cmd_status() {
  local rc=0 pid
  if _pg_running; then
    echo "PostgreSQL: running on $_HOST:$(_pg_running_port) (data $_PGDATA)"
  else
    echo "PostgreSQL: stopped"
    rc=3
  fi
  if pid="$(_rmq_pid)"; then
    if _port_open "$_RABBIT_PORT"; then
      echo "RabbitMQ:   running node $_NODE (pid $pid) AMQP on $_HOST:$_RABBIT_PORT, epmd $_EPMD_PORT"
    else
      echo "RabbitMQ:   node $_NODE (pid $pid) is up but its app is stopped (AMQP port $_RABBIT_PORT closed)"
      rc=3
    fi
  else
    echo "RabbitMQ:   stopped"
    rc=3
  fi
  if _s3_running; then
    echo "S3:         s3rver $_S3RVER_VERSION (pid $(cat "$_S3_PID")) on http://$_HOST:$_S3_PORT (data $_S3_DATA)"
  else
    echo "S3:         stopped"
    rc=3
  fi
  return "$rc"
}

_cmd_reset() {
  _cmd_down
  _say "deleting $_PGDATA and $_RMQ"
  rm -rf "${_PGDATA:?}" "${_RMQ:?}" "${_PGSOCK:?}" "${_S3_DATA:?}" "$_SAVED"
}

_cmd_logs() {
  local f
  for f in "$_PGLOG" $(_rmq_logs); do
    [[ -s $f ]] || continue
    printf -- '----- %s -----\n' "$f"
    tail -n "${1:-30}" "$f"
  done
}

_usage() {
  sed -n '2,13p' "$_sync_infra_self" | sed 's/^# \{0,1\}//'
}

_sync_infra_main() {
  set -euo pipefail
  _sync_config
  local cmd="${1:-}"
  shift || true
  case "$cmd" in
    up) _cmd_up ;;
    down) _cmd_down ;;
    status) _cmd_status ;;
    env) _sync_print_env ;;
    reset) _cmd_reset ;;
    logs) _cmd_logs "$@" ;;
    pg-start)
      _lock
      _check_running_matches
      _ensure_packages
      _ensure_dirs
      _pg_start
      _save_config
      ;;
    pg-stop)
      _lock
      _pg_stop
      ;;
    pg-restart)
      _lock
      _pg_stop
      _ensure_dirs
      _pg_start
      ;;
    pg-status) _pg_running ;;
    s3-start)
      _lock
      _ensure_packages
      _ensure_dirs
      _s3_start
      _save_config
      ;;
    s3-stop)
      _lock
      _s3_stop
      ;;
    psql)
      PGPASSWORD="$_PASSWORD" exec "$_PG_BIN/psql" -X "host=$_HOST port=$_PG_PORT user=$_USER dbname=${SYNC_PG_DATABASE:-postgres}" "$@"
      ;;
    rabbit-start)
      _lock
      _check_running_matches
      _ensure_packages
      _ensure_dirs
      _rmq_launch
      _rmq_wait
      _save_config
      ;;
    rabbit-stop)
      # Stops the RabbitMQ application (connections drop, AMQP port closes); the Erlang
      # node stays, so rabbit-start brings it back in about a second.
      if _rmq_node_alive; then
        _rmqctl -q stop_app >>"$_LOGS/rabbitmqctl.log" 2>&1 || _die "rabbitmqctl stop_app failed" "$_LOGS/rabbitmqctl.log"
      fi
      ;;
    rabbit-restart)
      "$_sync_infra_self" rabbit-stop
      exec "$_sync_infra_self" rabbit-start
      ;;
    broker-users)
      [[ -d $_RMQ ]] || _die "no RabbitMQ state in $_RMQ: run 'scripts/infra.sh up' first"
      _rmq_broker_users "${1:-/}"
      ;;
    rabbitmqctl)
      [[ -d $_RMQ ]] || _die "no RabbitMQ state in $_RMQ: run 'scripts/infra.sh up' first"
      _rmqctl "$@"
      # A vhost made with rabbitmqctl grants nobody access (the administrator tag does not
      # either): give the sync user all permissions on it, as the tests expect.
      local a vhost="" seen=0 skip=0
      if [[ ${SYNC_RABBITMQCTL_RAW:-0} != 1 ]]; then
        for a in "$@"; do
          if ((!seen)); then
            [[ $a == add_vhost ]] && seen=1
            continue
          fi
          if ((skip)); then skip=0 && continue; fi
          case $a in
            --*=*) ;;
            --description | --tags | --default-queue-type) skip=1 ;;
            -*) ;;
            *) vhost=$a && break ;;
          esac
        done
        if [[ -n $vhost ]]; then
          _rmqctl -q set_permissions -p "$vhost" "$_USER" '.*' '.*' '.*'
        fi
      fi
      ;;
    "" | help | -h | --help) _usage ;;
    *)
      _usage >&2
      exit 2
      ;;
  esac
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  _sync_infra_main "$@"
else
  # Sourced: optionally run a subcommand (in a subshell, so `set -e` stays there), then
  # export the SYNC_* variables into the caller's shell.
  if (($#)); then
    ("$_sync_infra_self" "$@") || return $?
  fi
  _sync_config
  eval "$(_sync_print_env)"
fi
