#!/usr/bin/env bash
# Runs the whole test suite (unit, fake-exchange HTTP, Orleans clusters on a throwaway PostgreSQL) and prints
# one plain closing line "N passed, N failed". Extra arguments go to `dotnet test` (e.g. --filter ...).
set -uo pipefail
cd "$(dirname "$0")/.."

if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ]; then
    echo "PostgreSQL server binaries missing: installing the Debian package 'postgresql'"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null) || {
      echo "could not install PostgreSQL; tests need it (apt-get install -y postgresql)"; exit 1; }
  else
    echo "PostgreSQL server binaries (initdb) not found: install them (apt-get install -y postgresql) or set GRINDER_TEST_POSTGRES"
  fi
fi

results=$(mktemp -d)
dotnet test Grinder.Tests/Grinder.Tests.csproj -c Release --logger "trx;LogFileName=tests.trx" --results-directory "$results" "$@"
status=$?

trx="$results/tests.trx"
if [ -f "$trx" ]; then
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  passed=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")
  failed=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
  errors=$(sed -n 's/.* error="\([0-9]*\)".*/\1/p' <<<"$counters")
  failed=$(( ${failed:-0} + ${errors:-0} ))
else
  passed=0
  failed=1
  echo "no test results were written (build failure?)"
fi
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  failed=1
fi
rm -rf "$results"
echo "${passed:-0} passed, ${failed} failed"
[ "$failed" -eq 0 ]
