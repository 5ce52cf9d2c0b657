#!/usr/bin/env bash
# scripts/publish-services.sh rid|publish [DOTNET-ARGS…] — the four services and syncctl published
# ReadyToRun, framework-dependent, for this machine (tests/services.slnf), into
# <project>/bin/Release/net10.0/<rid>/publish/. `./run test` starts them from there in the end-to-end
# tests, and `./run containers up` copies the services into their images: one command, so the second
# finds everything up to date.
#   rid      print the .NET runtime identifier (linux-x64, linux-arm64); exit 1 on another machine
#   publish  publish (DOTNET-ARGS go to dotnet publish, e.g. -v q -nologo)
# The five applications share most of their dependencies: each dependency is compiled once per
# publish, not once per application (Directory.Build.targets, SyncReadyToRunCache: 94 compilations
# instead of 246, 47 s instead of 122 s here), through a cache folder of this publish only.
set -euo pipefail
cd "$(dirname "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")")"

rid() {
  case "$(uname -m)" in
    x86_64) echo linux-x64 ;;
    aarch64 | arm64) echo linux-arm64 ;;
    *) echo "publish-services: no ReadyToRun runtime identifier for $(uname -m)" >&2 && return 1 ;;
  esac
}

case "${1:-}" in
  rid) rid ;;
  publish)
    shift
    r="$(rid)"
    mkdir -p .sync
    cache="$(mktemp -d .sync/r2r-cache.XXXXXX)"
    trap 'rm -rf "$cache"' EXIT
    dotnet publish tests/services.slnf -c Release -r "$r" --self-contained false -p:PublishReadyToRun=true \
      -p:SyncReadyToRunCache="$PWD/$cache" "$@"
    ;;
  *) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
