#!/usr/bin/env bash
# Operations checks: Prometheus alert rules (syntax and promtool unit tests), Prometheus config, compose file.
# Installs promtool (Debian package "prometheus") and docker-compose (Debian package "docker-compose", v1.29)
# when missing; no Docker engine is needed. Prints PASS/FAIL per check and ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."

passed=0
failed=0

# Installs a Debian package quietly when its command is missing (needs root and apt-get).
ensure() {
  local command=$1 package=$2
  command -v "$command" >/dev/null 2>&1 && return 0
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "$command not found and cannot install package $package (needs root and apt-get)" >&2
    return 1
  fi
  echo "installing $package for $command"
  # apt-get update only once per run.
  if [ -z "${apt_updated:-}" ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null 2>&1 || true
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$package" >/dev/null 2>&1
  command -v "$command" >/dev/null 2>&1
}

# Runs one check, shows its output indented, and counts it.
check() {
  local name=$1; shift
  local output rc
  output=$("$@" 2>&1)
  rc=$?
  [ -n "$output" ] && sed 's/^/    /' <<<"$output"
  if [ "$rc" -eq 0 ]; then
    echo "PASS $name"
    passed=$((passed + 1))
  else
    echo "FAIL $name (exit $rc)"
    failed=$((failed + 1))
  fi
}

rules=infra/prometheus/alerts.yml
config=infra/prometheus/prometheus.yml
shopt -s nullglob
rule_tests=(infra/prometheus/tests/*.yml)
shopt -u nullglob

if ensure promtool prometheus; then
  check "promtool check rules $rules" promtool check rules "$rules"
  if [ "${#rule_tests[@]}" -gt 0 ]; then
    check "promtool test rules infra/prometheus/tests/*.yml (${#rule_tests[@]} files)" promtool test rules "${rule_tests[@]}"
  else
    echo "FAIL promtool test rules: no test files in infra/prometheus/tests"
    failed=$((failed + 1))
  fi
  # Also checks the rule files the config references (relative to the config's directory).
  check "promtool check config $config" promtool check config "$config"
else
  echo "FAIL promtool checks: promtool unavailable"
  failed=$((failed + 3))
fi

if ensure docker-compose docker-compose; then
  # Validated with the fake profile on, so the profile service is checked too. Unset optional variables would only
  # warn; the file gives every interpolated variable a default.
  check "docker-compose -f compose.yaml config -q" docker-compose -f compose.yaml --profile fake config -q
else
  echo "FAIL docker-compose config: docker-compose unavailable"
  failed=$((failed + 1))
fi

echo "${passed} passed, ${failed} failed"
[ "$failed" -eq 0 ]
