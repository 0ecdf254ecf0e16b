#!/usr/bin/env bash
# House style: `dotnet format --verify-no-changes` against .editorconfig (whitespace, usings, code style including
# IDE0290 "use primary constructor", and the naming rules). Fails on any file that formatting would change or any naming
# rule it reports; `dotnet format Grinder.sln` fixes all but naming, which is renamed by hand. Ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

if [ ! -f .editorconfig ]; then
  echo "FAIL .editorconfig missing: nothing to check the style against"
  echo "0 passed, 1 failed"
  exit 1
fi

dotnet restore Grinder.sln -v q >/dev/null 2>&1 || true
if dotnet format Grinder.sln --verify-no-changes --no-restore -v q; then
  echo "PASS dotnet format --verify-no-changes"
  echo "1 passed, 0 failed"
else
  echo "FAIL dotnet format --verify-no-changes: run 'dotnet format Grinder.sln' and rename what it reports"
  echo "0 passed, 1 failed"
  exit 1
fi
