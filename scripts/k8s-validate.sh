#!/usr/bin/env bash
# scripts/k8s-validate.sh [KUSTOMIZATION_DIR…] — renders the Kubernetes manifests with
# `kubectl kustomize` and validates every object offline against the Kubernetes OpenAPI schemas
# (npm kubernetes-models; KEDA's ScaledObject and TriggerAuthentication through
# @kubernetes-models/keda), plus Sync's rules (deploy/kubernetes/validate/validate.mjs). No cluster
# is needed. Default: deploy/kubernetes/base and deploy/kubernetes/demo. Exit 0 when all is valid,
# 1 when an object is not, 2 when a tool is missing. Prints "keda-queue DEPLOYMENT QUEUE" per KEDA
# RabbitMQ trigger (tests/Sync.Architecture.Tests/KubernetesManifestsTests compares them with the
# services' queues).
#
# Renders with $SYNC_KUBECTL when set, else the kubectl on PATH. Installs what it lacks: kubectl
# (apt-get: Debian 12's kubernetes-client 1.20, whose kustomize is v2.0.3; the kustomizations are
# written for it as well as for v5), node and npm (apt-get), and the npm packages of
# deploy/kubernetes/validate/package.json into
# ${SYNC_K8S_VALIDATE_DIR:-~/.cache/sync/k8s-validate-<hash of package.json>} (once; under a lock,
# so concurrent runs share it).
set -euo pipefail

REPO="$(dirname "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")")"
VALIDATE="$REPO/deploy/kubernetes/validate"
die() { echo "k8s-validate: $*" >&2; exit 2; }

KUBECTL=${SYNC_KUBECTL:-kubectl}
# `kubectl kustomize` came with kubectl 1.14 (kustomize v2.0.3 until kubectl 1.21).
kustomize_ok() { "$KUBECTL" kustomize --help >/dev/null 2>&1; }
need=()
if ! kustomize_ok; then
  [[ -z ${SYNC_KUBECTL:-} ]] || die "SYNC_KUBECTL=$SYNC_KUBECTL: no kubectl with \`kubectl kustomize\`"
  need+=(kubernetes-client)
fi
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)
if ((${#need[@]})); then
  command -v apt-get >/dev/null 2>&1 || die "${need[*]} needed (and no apt-get here)"
  sudo=(); [[ $(id -u) == 0 ]] || sudo=(sudo -n)
  log="${TMPDIR:-/tmp}/sync-apt.log"
  echo "k8s-validate: installing ${need[*]} (apt-get, log in $log)…" >&2
  {
    "${sudo[@]}" apt-get -q -o DPkg::Lock::Timeout=300 update &&
      "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=300 \
        --no-install-recommends "${need[@]}"
  } >>"$log" 2>&1 </dev/null || die "apt-get install ${need[*]} failed; see $log"
  kustomize_ok || die "still no kubectl with \`kubectl kustomize\` after apt-get install kubernetes-client"
  command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || die "still no node and npm after apt-get install"
fi
echo "k8s-validate: $("$KUBECTL" version --client 2>/dev/null | head -1)" >&2

hash=$(sha256sum "$VALIDATE/package.json" | cut -c1-12)
CACHE="${SYNC_K8S_VALIDATE_DIR:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/sync/k8s-validate-$hash}"
mkdir -p "$CACHE"
(
  flock 9
  if [[ ! -f $CACHE/node_modules/.sync-installed ]]; then
    echo "k8s-validate: installing the validator's npm packages into $CACHE…" >&2
    cp "$VALIDATE/package.json" "$CACHE/package.json"
    (cd "$CACHE" && npm install --no-audit --no-fund --loglevel=error --omit=dev) </dev/null >"$CACHE/npm-install.log" 2>&1 \
      || die "npm install failed (log: $CACHE/npm-install.log)"
    touch "$CACHE/node_modules/.sync-installed"
  fi
) 9>"$CACHE/.lock"
# Beside its node_modules, where Node resolves the imports of an ES module from.
cp "$VALIDATE/validate.mjs" "$CACHE/validate.mjs"

dirs=("$@")
[[ ${#dirs[@]} -gt 0 ]] || dirs=("$REPO/deploy/kubernetes/base" "$REPO/deploy/kubernetes/demo")
errors=$(mktemp)
trap 'rm -f "$errors"' EXIT
status=0
for dir in "${dirs[@]}"; do
  echo "== $dir"
  # Standard error apart: kustomize v5 warns there that bases: and patchesJson6902: (kept for
  # v2.0.3) are deprecated; the rest of what it says is shown.
  if ! rendered=$("$KUBECTL" kustomize "$dir" 2>"$errors"); then
    echo "invalid: kubectl kustomize $dir: $(cat "$errors")" >&2
    status=1
    continue
  fi
  grep -v "^# Warning: '[A-Za-z0-9]*' is deprecated" "$errors" >&2 || true
  node "$CACHE/validate.mjs" <<<"$rendered" || status=1
done
exit $status
