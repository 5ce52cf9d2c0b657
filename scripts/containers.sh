#!/usr/bin/env bash
# scripts/containers.sh up|prepare|down|status|demo|logs — Sync in containers (docker-compose.yml).
#
#   up       install what is missing (podman, podman-compose, runc, debootstrap from Debian's
#            packages; none of it where a Docker engine answers), make the base images once when
#            the public registries are unreachable (a debootstrapped Debian, and on it the host's
#            .NET runtime), publish the four services (ReadyToRun, framework-dependent, the publish
#            `./run test` makes too), build the six images one at a time, start PostgreSQL and
#            RabbitMQ, wait for their health checks, start the services, wait for the Coordinator
#   prepare  the steps of up that need no build of Sync: the installs, the base images and the
#            PostgreSQL and RabbitMQ images (`./run test` runs it beside its build)
#   down     stop and remove the stack's containers (down -v also its database volume)
#   status   the stack's containers and the Coordinator's readiness
#   demo     up, then the job `orders` (jobs/orders.yml) through the containers on
#            SYNC_DEMO_ROWS rows (default 100,000): initial load, 1% changed, incremental run,
#            `syncctl verify orders` and an md5 of both tables in the postgres container
#   logs SERVICE   the service's container logs
# SYNC_NO_BUILD=1 skips the publish and the service images when they exist.
#
# Engine: SYNC_CONTAINER_ENGINE=docker|podman; by default docker when `docker info` answers, else
# podman (rootful, runc, cgroupfs: the containers.conf below; crun refuses these machines' hybrid
# cgroups and podman's default ulimits are not permitted here). The compose file is the same.
# Everything is named sync-containers (project SYNC_CT_PROJECT), sync-* (images), so `down` and
# `podman rmi` of those names remove it all and nothing else. Ports (loopback only):
# SYNC_CT_API_PORT=56080 SYNC_CT_PG_PORT=56432 SYNC_CT_RABBIT_PORT=56672 SYNC_CT_RABBIT_MGMT_PORT=56673.
# Scale: SYNC_CT_LOADERS=N, SYNC_CT_TRANSFORMERS=N.
set -euo pipefail

SCRIPTS="$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")"
REPO="$(dirname "$SCRIPTS")"
STATE="$REPO/.sync/containers"
PROJECT="${SYNC_CT_PROJECT:-sync-containers}"
SERVICES=(Coordinator Extractor Transformer Loader)
LOCAL_DEBIAN=localhost/sync-debian:bookworm
LOCAL_RUNTIME=localhost/sync-dotnet-runtime
export SYNC_CT_API_PORT="${SYNC_CT_API_PORT:-56080}" SYNC_CT_PG_PORT="${SYNC_CT_PG_PORT:-56432}"
export SYNC_CT_RABBIT_PORT="${SYNC_CT_RABBIT_PORT:-56672}" SYNC_CT_RABBIT_MGMT_PORT="${SYNC_CT_RABBIT_MGMT_PORT:-56673}"
# No public default key (issue 20): one is made at the first start, kept readable by this user only.
API_KEY_FILE="$STATE/api-key"
if [[ -z ${SYNC_API_KEY:-} ]]; then
  if [[ ! -s $API_KEY_FILE ]]; then
    mkdir -p "$STATE"
    (umask 077 && head -c 24 /dev/urandom | base64 | tr '+/' '-_' >"$API_KEY_FILE")
  fi
  SYNC_API_KEY="$(cat "$API_KEY_FILE")"
fi
# Likewise the key the services sign stage messages with: without one, none starts.
JOB_SIGNING_KEY_FILE="$STATE/job-signing-key"
if [[ -z ${SYNC_JOB_SIGNING_KEY:-} ]]; then
  if [[ ! -s $JOB_SIGNING_KEY_FILE ]]; then
    mkdir -p "$STATE"
    (umask 077 && head -c 32 /dev/urandom | base64 >"$JOB_SIGNING_KEY_FILE")
  fi
  SYNC_JOB_SIGNING_KEY="$(cat "$JOB_SIGNING_KEY_FILE")"
fi
export SYNC_API_KEY SYNC_JOB_SIGNING_KEY SYNC_OTLP_ENDPOINT="${SYNC_OTLP_ENDPOINT:-}"
# The stack's passwords (issue 20), made once at random: the compose file's secrets, each
# container mounting only its own (the folder is this user's; inside a container a file must be
# readable by the service's user, hence 644).
SECRETS="$STATE/secrets"
export SYNC_CT_SECRETS="$SECRETS"
make_secrets() {
  local name password
  mkdir -p "$SECRETS"
  chmod 700 "$SECRETS"
  for name in rabbitmq-admin rabbitmq-coordinator rabbitmq-extractor rabbitmq-transformer rabbitmq-loader postgres-admin postgres-sync; do
    if [[ ! -s $SECRETS/$name ]]; then
      (umask 022 && head -c 32 /dev/urandom | base64 | tr -d '+/=\n' >"$SECRETS/$name")
    fi
  done
  password="$(cat "$SECRETS/postgres-sync")"
  for name in control:sync_control demo-source:sync_demo_source demo-destination:sync_demo_destination; do
    (umask 022 && printf 'Host=postgres;Port=5432;Username=sync;Password=%s;Database=%s' "$password" "${name#*:}" >"$SECRETS/${name%%:*}-db")
  done
}
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
cd "$REPO"

say() { printf '== %s\n' "$*"; }
die() {
  printf 'containers: ERROR: %s\n' "$*" >&2
  exit 1
}

pick_engine() {
  ENGINE="${SYNC_CONTAINER_ENGINE:-}"
  if [[ -z $ENGINE ]]; then
    if command -v docker >/dev/null && docker info >/dev/null 2>&1; then ENGINE=docker; else ENGINE=podman; fi
  fi
}

# podman's settings for these machines, in a file of our own (CONTAINERS_CONF), not /etc.
podman_conf() {
  mkdir -p "$STATE"
  cat >"$STATE/containers.conf" <<'EOF'
[containers]
default_ulimits = []
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
  export CONTAINERS_CONF="$STATE/containers.conf"
}

APT_UPDATED=0
apt_install() { # COMMAND:PACKAGE… — installs the packages whose command is missing
  local want=() pair sudo=() log="$STATE/apt.log"
  for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null || want+=("${pair#*:}")
  done
  ((${#want[@]})) || return 0
  if ((EUID != 0)); then sudo=(sudo -n); fi
  mkdir -p "$STATE"
  say "Installing ${want[*]} (apt-get, log in $log)"
  if ((APT_UPDATED == 0)); then
    "${sudo[@]}" apt-get -q -o DPkg::Lock::Timeout=300 update >>"$log" 2>&1 </dev/null || die "apt-get update failed; see $log"
    APT_UPDATED=1
  fi
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=300 "${want[@]}" \
    >>"$log" 2>&1 </dev/null || die "apt-get install ${want[*]} failed; see $log"
}

# Local base images when mcr.microsoft.com or Docker Hub does not answer (SYNC_LOCAL_BASE=1|0
# decides instead).
local_base() {
  if [[ -z ${LOCAL_BASE:-} ]]; then
    LOCAL_BASE="${SYNC_LOCAL_BASE:-}"
    if [[ -z $LOCAL_BASE ]]; then
      LOCAL_BASE=0
      local url
      for url in https://mcr.microsoft.com/v2/ https://registry-1.docker.io/v2/; do
        [[ $(curl -s -o /dev/null -m 5 -w '%{http_code}' "$url" || true) == [1-5]?? ]] || LOCAL_BASE=1
      done
    fi
  fi
  [[ $LOCAL_BASE == 1 ]]
}

setup() {
  pick_engine
  local e=$ENGINE tools=()
  if [[ $e == podman ]]; then
    tools+=(podman:podman podman-compose:podman-compose runc:runc)
  fi
  if local_base; then tools+=(debootstrap:debootstrap); fi
  tools+=(curl:curl)
  apt_install "${tools[@]}"
  if [[ $e == podman ]]; then
    podman_conf
    COMPOSE=(podman-compose -p "$PROJECT" -f "$REPO/docker-compose.yml")
  else
    COMPOSE=(docker compose -p "$PROJECT" -f "$REPO/docker-compose.yml")
  fi
  if local_base; then
    # SYNC_BASE_IMAGE (the local runtime image, tagged with the runtime's version) is set when it is built.
    export SYNC_DEBIAN_IMAGE="$LOCAL_DEBIAN"
  fi
  # Every compose command reads the secrets' files.
  make_secrets
}

# debootstrap --variant=minbase into a folder, imported as an image: once, then cached.
debian_base() {
  local e=$ENGINE
  if "$e" image inspect "$LOCAL_DEBIAN" >/dev/null 2>&1; then return 0; fi
  local rootfs="$STATE/rootfs" mirror="${SYNC_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
  say "Making $LOCAL_DEBIAN (debootstrap --variant=minbase bookworm from $mirror)"
  rm -rf "$rootfs"
  debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$STATE/debootstrap.log" 2>&1 ||
    die "debootstrap failed; see $STATE/debootstrap.log"
  rm -f "$rootfs"/var/cache/apt/archives/*.deb
  tar -C "$rootfs" -c . | "$e" import - "$LOCAL_DEBIAN" >"$STATE/import.log" 2>&1 ||
    die "$e import failed; see $STATE/import.log"
  rm -rf "$rootfs"
}

# The host's .NET runtimes (the newest 10.0 of Microsoft.NETCore.App and of Microsoft.AspNetCore.App,
# the ones the SDK runs apps on) copied with deploy/dotnet-runtime/Dockerfile into a build context;
# prints the image's tag, which names the version.
runtime_context() {
  local file name version path root="" netcore="" aspnet="" context="$STATE/dotnet-runtime"
  while read -r name version path; do
    [[ $version == 10.0.* ]] || continue
    path="${path#[}"
    path="${path%]}"
    case "$name" in
      Microsoft.NETCore.App) netcore="$version" root="$(dirname "$(dirname "$path")")" ;;
      Microsoft.AspNetCore.App) aspnet="$version" ;;
    esac
  done < <(dotnet --list-runtimes | sort -V)
  [[ -n $netcore && -n $aspnet && -x $root/dotnet ]] ||
    die "no .NET 10.0 runtime (Microsoft.NETCore.App and Microsoft.AspNetCore.App) in 'dotnet --list-runtimes'"
  rm -rf "$context"
  mkdir -p "$context/dotnet/shared"
  cp deploy/dotnet-runtime/Dockerfile "$context/"
  cp -a "$root/dotnet" "$root/host" "$context/dotnet/"
  for file in LICENSE.txt ThirdPartyNotices.txt; do [[ ! -e $root/$file ]] || cp "$root/$file" "$context/dotnet/"; done
  mkdir -p "$context/dotnet/shared/Microsoft.NETCore.App" "$context/dotnet/shared/Microsoft.AspNetCore.App"
  cp -a "$root/shared/Microsoft.NETCore.App/$netcore" "$context/dotnet/shared/Microsoft.NETCore.App/"
  cp -a "$root/shared/Microsoft.AspNetCore.App/$aspnet" "$context/dotnet/shared/Microsoft.AspNetCore.App/"
  echo "$LOCAL_RUNTIME:$netcore"
}

REPLACED=()
build_image() { # TAG CONTEXT [BUILD-ARG…]
  local tag=$1 context=$2 arg args=() old new
  shift 2
  old="$("$ENGINE" image inspect -f '{{.Id}}' "$tag" 2>/dev/null || true)"
  for arg in "$@"; do args+=(--build-arg "$arg"); done
  local log="$STATE/build-${tag//[^a-z0-9.-]/_}.log"
  say "Building $tag"
  # --network=host: apt-get inside the build reaches the Debian mirror the host reaches.
  "$ENGINE" build --network=host -t "$tag" -f "$context/Dockerfile" "${args[@]}" "$context" >"$log" 2>&1 || {
    tail -n 30 "$log" >&2
    die "building $tag failed; see $log"
  }
  new="$("$ENGINE" image inspect -f '{{.Id}}' "$tag")"
  if [[ -n $old && $old != "$new" ]]; then REPLACED+=("$old"); fi
}

# On the host, ReadyToRun and framework-dependent: the publish `./run test` makes for the end-to-end
# tests (scripts/publish-services.sh), so after it this step finds everything up to date. NuGet is
# reachable here where no .NET SDK image is (see Dockerfile).
publish() {
  local s rid
  rid="$("$SCRIPTS/publish-services.sh" rid)" || die "no .NET runtime identifier for $(uname -m)"
  say "Publishing the services (ReadyToRun, $rid)"
  "$SCRIPTS/publish-services.sh" publish -v q -nologo >"$STATE/publish.log" 2>&1 || {
    tail -n 30 "$STATE/publish.log" >&2
    die "dotnet publish failed; see $STATE/publish.log"
  }
  for s in "${SERVICES[@]}"; do
    rm -rf "$STATE/publish/$s"
    mkdir -p "$STATE/publish"
    cp -a "services/$s/bin/Release/net10.0/$rid/publish" "$STATE/publish/$s"
  done
}

# The images that need no build of Sync: the local base images (when the registries are
# unreachable), PostgreSQL and RabbitMQ.
build_bases() {
  if local_base; then
    debian_base
    local runtime
    runtime="$(runtime_context)" || exit 1
    build_image "$runtime" "$STATE/dotnet-runtime" "DEBIAN_IMAGE=$LOCAL_DEBIAN"
    export SYNC_BASE_IMAGE="$runtime"
  fi
  local debian="${SYNC_DEBIAN_IMAGE:-debian:bookworm}"
  build_image localhost/sync-postgres:latest deploy/postgres "DEBIAN_IMAGE=$debian"
  build_image localhost/sync-rabbitmq:latest deploy/rabbitmq "DEBIAN_IMAGE=$debian"
}

build_all() {
  build_bases
  local base="${SYNC_BASE_IMAGE:-mcr.microsoft.com/dotnet/aspnet:10.0}" s
  if [[ ${SYNC_NO_BUILD:-0} == 1 ]] && "$ENGINE" image inspect localhost/sync-loader:latest >/dev/null 2>&1; then
    say "SYNC_NO_BUILD=1: the service images as they are"
    return 0
  fi
  publish
  for s in "${SERVICES[@]}"; do
    build_image "localhost/sync-${s,,}:latest" . "SERVICE=$s" "BASE_IMAGE=$base"
  done
}

container_ids() { # SERVICE
  "$ENGINE" ps -q --filter "label=com.docker.compose.project=$PROJECT" --filter "label=com.docker.compose.service=$1"
}

healthy() { # CONTAINER
  if [[ $ENGINE == podman ]]; then
    # Without systemd podman runs no health-check timers; run the check itself.
    podman healthcheck run "$1" >/dev/null 2>&1
  else
    [[ $(docker inspect -f '{{.State.Health.Status}}' "$1" 2>/dev/null) == healthy ]]
  fi
}

wait_healthy() { # SERVICE TIMEOUT-SECONDS
  local id i
  for ((i = 0; i < $2; i += 2)); do
    id="$(container_ids "$1" | sed -n 1p)"
    if [[ -n $id ]] && healthy "$id"; then return 0; fi
    sleep 2
  done
  "$ENGINE" logs --tail 30 "$id" >&2 || true
  die "$1 not healthy after $2 s"
}

wait_api() {
  local i url="http://127.0.0.1:$SYNC_CT_API_PORT/health/ready"
  for ((i = 0; i < 180; i++)); do
    if curl -sf -o /dev/null -m 5 "$url"; then return 0; fi
    sleep 1
  done
  "$ENGINE" logs --tail 40 "$(container_ids coordinator | sed -n 1p)" >&2 || true
  die "the Coordinator does not answer $url"
}

# podman-compose 1.0.3 starts an existing container as it is, on the image it was made from;
# remove those whose image has been rebuilt since, so `up` runs what it just built (docker compose
# recreates them itself).
drop_stale_containers() {
  [[ $ENGINE == podman ]] || return 0
  local id image tag
  for id in $(podman ps -aq --filter "label=com.docker.compose.project=$PROJECT"); do
    read -r image tag < <(podman inspect -f '{{.Image}} {{.ImageName}}' "$id")
    if [[ $(podman image inspect -f '{{.Id}}' "$tag" 2>/dev/null) != "$image" ]]; then
      podman rm -f "$id" >/dev/null
    fi
  done
}

cmd_up() {
  setup
  say "Engine: $ENGINE; base images: $(local_base && echo "local, $LOCAL_DEBIAN" || echo public)"
  build_all
  drop_stale_containers
  # The images a rebuild replaced (about 0.5 GB each); one a container still runs stays.
  local id
  for id in "${REPLACED[@]}"; do "$ENGINE" rmi "$id" >/dev/null 2>&1 || true; done
  say "Starting postgres and rabbitmq"
  "${COMPOSE[@]}" up -d --no-build postgres rabbitmq >"$STATE/compose-up.log" 2>&1 ||
    die "compose up failed; see $STATE/compose-up.log"
  wait_healthy postgres 120
  wait_healthy rabbitmq 180
  # The role sync's password is the secret's, also in a volume made before it (or before a new secret);
  # psql reads it from the secret file in the container, so it is on no command line. As the
  # superuser (local socket, trust): PostgreSQL 15 lets only a superuser alter a REPLICATION role,
  # even its own password.
  printf '%s\n' "\\set password \`cat /run/secrets/postgres-sync\`" "ALTER ROLE sync PASSWORD :'password';" |
    "$ENGINE" exec -i "$(container_ids postgres | sed -n 1p)" psql -qtA -v ON_ERROR_STOP=1 -U postgres -d postgres >/dev/null ||
    die "could not set the password of the database role sync"
  # A database volume made before the role sync lost its superuser (issue 20) keeps it: say so.
  if [[ $(psql_in postgres "SELECT rolsuper FROM pg_roles WHERE rolname = 'sync'") == t ]]; then
    say "Note: the role sync is a superuser in this (older) database volume; './run containers down -v' and up again make it an ordinary one"
  fi
  # A caller's hook (scripts/containers-kill-loader.sh starts its trace collector there, once the
  # stack's network exists).
  if declare -F before_services >/dev/null; then before_services; fi
  say "Starting the services (loaders: ${SYNC_CT_LOADERS:-1}, transformers: ${SYNC_CT_TRANSFORMERS:-1})"
  "${COMPOSE[@]}" up -d --no-build >>"$STATE/compose-up.log" 2>&1 ||
    die "compose up failed; see $STATE/compose-up.log"
  wait_api
  cat <<EOF
== Up ($PROJECT). Loopback only:
   Coordinator API, dashboard  http://127.0.0.1:$SYNC_CT_API_PORT/dashboard/  (API key in $API_KEY_FILE unless SYNC_API_KEY is set)
   PostgreSQL                  127.0.0.1:$SYNC_CT_PG_PORT  (user sync, password in $SECRETS/postgres-sync)
   RabbitMQ                    127.0.0.1:$SYNC_CT_RABBIT_PORT, management http://127.0.0.1:$SYNC_CT_RABBIT_MGMT_PORT  (user sync, password in $SECRETS/rabbitmq-admin)
EOF
}

cmd_prepare() {
  setup
  say "Engine: $ENGINE; base images: $(local_base && echo "local, $LOCAL_DEBIAN" || echo public)"
  build_bases
}

cmd_down() {
  setup
  "${COMPOSE[@]}" down "$@" >/dev/null 2>&1 || true
  # Replicas beyond the compose file's count (SYNC_CT_LOADERS=2 up, plain down) are not in its model.
  local left
  left="$("$ENGINE" ps -aq --filter "label=com.docker.compose.project=$PROJECT")"
  if [[ -n $left ]]; then "$ENGINE" rm -f $left >/dev/null; fi
  if [[ $ENGINE == podman ]]; then
    # podman-compose 1.0.3 leaves the network it made.
    podman network rm "${PROJECT}_default" >/dev/null 2>&1 || true
  fi
  say "Down ($PROJECT)"
}

cmd_status() {
  setup
  "$ENGINE" ps -a --filter "label=com.docker.compose.project=$PROJECT" --format '{{.Names}}\t{{.Status}}'
  if curl -sf -o /dev/null -m 5 "http://127.0.0.1:$SYNC_CT_API_PORT/health/ready"; then
    echo "Coordinator ready on http://127.0.0.1:$SYNC_CT_API_PORT"
  else
    echo "Coordinator not answering on http://127.0.0.1:$SYNC_CT_API_PORT"
    return 1
  fi
}

cmd_logs() {
  setup
  local id
  for id in $(container_ids "${1:?logs SERVICE}"); do "$ENGINE" logs "$id"; done
}

psql_in() { # DATABASE SQL — psql inside the postgres container
  "$ENGINE" exec -i -e PGOPTIONS='-c client_min_messages=warning' "$(container_ids postgres | sed -n 1p)" psql -qtA -v ON_ERROR_STOP=1 -U sync -d "$1" -c "$2"
}

cli() {
  dotnet "$REPO/tools/Sync.Cli/bin/Release/net10.0/syncctl.dll" --api "http://127.0.0.1:$SYNC_CT_API_PORT" "$@"
}

# The demo's orders table (scripts/demo.sh), ROWS rows, in sync_demo_source; empty in the destination.
# Qualified: the user sync's search_path starts with "$user", and the Loader makes a schema sync in
# the destination database for its bookkeeping.
seed_orders() { # ROWS
  local db ddl="CREATE TABLE public.orders (
    id bigint PRIMARY KEY, customer_id integer NOT NULL, status text NOT NULL,
    amount numeric(12,2) NOT NULL, note text, created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL)"
  for db in sync_demo_source sync_demo_destination; do
    psql_in "$db" "DROP TABLE IF EXISTS public.orders"
    psql_in "$db" "$ddl"
  done
  psql_in sync_demo_source "INSERT INTO public.orders
    SELECT g, (g % 5000)::int, (ARRAY['new','paid','shipped','cancelled'])[1 + g % 4],
           round((random() * 1000)::numeric, 2), 'order note ' || md5(g::text),
           now() - interval '30 days', now() - interval '1 day' + g * interval '1 millisecond'
    FROM generate_series(1, $1) g"
}

orders_md5() { # DATABASE
  psql_in "$1" "SELECT count(*) || ' rows, md5 ' || md5(coalesce(string_agg(o::text, '|' ORDER BY id), '')) FROM public.orders o"
}

# Source and destination equal: syncctl verify (the Extractor compares them) and an md5 of every row.
check_orders() {
  local src dst
  say "syncctl verify orders"
  cli verify orders || die "syncctl verify found the destination different from the source (or could not verify)"
  src="$(orders_md5 sync_demo_source)"
  dst="$(orders_md5 sync_demo_destination)"
  echo "source:      $src"
  echo "destination: $dst"
  [[ $src == "$dst" ]] || die "the destination's md5 differs from the source's"
}

cmd_demo() {
  local rows="${SYNC_DEMO_ROWS:-100000}"
  cmd_up
  say "Building the CLI (tools/Sync.Cli)"
  dotnet build tools/Sync.Cli/Sync.Cli.csproj -c Release -v q -nologo >/dev/null
  say "Creating the orders tables (source: $rows rows)"
  seed_orders "$rows"
  # The job's watermark survives in the control database between demos; the table is new.
  cli reset orders --yes
  local since
  since="$(psql_in sync_demo_destination "SELECT now()")"
  say "Run 1: initial load"
  cli run orders --follow
  say "Changing 1% of the source ($((rows / 100)) rows)"
  psql_in sync_demo_source "UPDATE public.orders SET status = 'refunded', amount = amount + 1, updated_at = clock_timestamp()
    WHERE id % 100 = 0" >/dev/null
  say "Run 2: incremental"
  cli run orders --follow
  check_orders
  say "Destination equals source. Batches each Loader container (host name/pid) applied in this demo:"
  psql_in sync_demo_destination "SELECT loaded_by || ': ' || count(*) || ' batches' FROM sync.applied_batches
    WHERE applied_at >= '$since' GROUP BY loaded_by ORDER BY loaded_by"
}

main() {
  local cmd="${1:-status}"
  shift || true
  case "$cmd" in
    up) cmd_up ;;
    prepare) cmd_prepare ;;
    down) cmd_down "$@" ;;
    status) cmd_status ;;
    demo) cmd_demo ;;
    logs) cmd_logs "$@" ;;
    *) die "usage: ./run containers up|prepare|down [-v]|status|demo|logs SERVICE" ;;
  esac
}

# scripts/containers-kill-loader.sh sources this file for its functions.
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then main "$@"; fi
