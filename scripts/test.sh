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
  count() { sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p" <<<"$counters"; }
  passed=$(count passed)
  # Aborted, timed-out and not-executed (skipped) tests count as failed: none of them shows that anything works.
  failed=0
  for outcome in failed error timeout aborted notExecuted; do
    n=$(count "$outcome")
    failed=$(( failed + ${n:-0} ))
  done
else
  passed=0
  failed=1
  echo "no test results were written (build failure?)"
fi
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  failed=1
fi

# A run in which no test passed shows nothing (a filter that matches no test makes `dotnet test` exit 0): a failure.
if [ "${passed:-0}" -eq 0 ]; then
  echo "no test passed: nothing was shown to work (a --filter that matches no test, or a discovery problem)"
  [ "$failed" -eq 0 ] && failed=1
fi

# A run of the whole suite that executed fewer tests than the floor kept in the repository ran (nearly) nothing: a
# discovery or build problem, not a green run. A filtered run (extra arguments) is exempt.
floor=$(tr -dc '0-9' < scripts/test-floor.txt 2>/dev/null)
if [ "$#" -eq 0 ] && [ "${passed:-0}" -lt "${floor:-1}" ]; then
  echo "only ${passed:-0} tests passed, fewer than the floor of ${floor:-1} in scripts/test-floor.txt"
  [ "$failed" -eq 0 ] && failed=1
fi
rm -rf "$results"
echo "${passed:-0} passed, ${failed} failed"
[ "$failed" -eq 0 ]
