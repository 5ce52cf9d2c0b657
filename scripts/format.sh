#!/usr/bin/env bash
# scripts/format.sh [--style] [SOLUTION] — fails (exit 2) when the code is off the layout that
# .editorconfig states; `dotnet format SOLUTION` without the check fixes most of it.
#
#   whitespace  indentation, line breaks, spacing, final newlines: reads the files as text
#               (--folder, no solution load; about 6 s)
#   style       (--style only) the IDE rules at warning (file-scoped namespaces, var, braces, field
#               names, …): loads the solution (45 s); expects it restored (--no-restore). The build
#               refuses the same breaches (EnforceCodeStyleInBuild, warnings as errors), so
#               `./run test` leaves this out; it names each breach with its fix.
set -euo pipefail

REPO="$(dirname "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")")"
cd "$REPO"
STYLE=0
if [[ ${1:-} == --style ]]; then
  STYLE=1
  shift
fi
SLN="${1:-Sync.sln}"

start=$SECONDS
dotnet format whitespace --folder --verify-no-changes -v q
if ((STYLE)); then dotnet format style "$SLN" --verify-no-changes --severity warn --no-restore -v q; fi
echo "format: layout$( ((STYLE)) && echo " and style") as .editorconfig states ($((SECONDS - start)) s)"
