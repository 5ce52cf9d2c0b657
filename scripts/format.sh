#!/usr/bin/env bash
# scripts/format.sh [SOLUTION] — fails (exit 2) when the code is off the layout and style that
# .editorconfig states; `dotnet format SOLUTION` without the check fixes most of it.
#
#   whitespace  indentation, line breaks, spacing, final newlines: reads the files as text
#               (--folder, no solution load)
#   style       the IDE rules at warning (file-scoped namespaces, var, braces, field names, …):
#               loads the solution; expects it restored (--no-restore). The build refuses the
#               same breaches (EnforceCodeStyleInBuild); this names each with its fix.
set -euo pipefail

REPO="$(dirname "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")")"
cd "$REPO"
SLN="${1:-Sync.sln}"

start=$SECONDS
dotnet format whitespace --folder --verify-no-changes -v q
dotnet format style "$SLN" --verify-no-changes --severity warn --no-restore -v q
echo "format: layout and style as .editorconfig states ($((SECONDS - start)) s)"
