#!/usr/bin/env bash
# Operations checks: Prometheus alert rules (syntax and promtool unit tests), Prometheus config, Alertmanager config and
# routes, Grafana dashboard (structure, PromQL syntax), compose file. Installs promtool (Debian package "prometheus"),
# amtool ("prometheus-alertmanager"), jq and docker-compose (v1.29) when missing; no Docker engine is needed. Prints PASS/FAIL per check and ends with "N passed, N failed".
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

# Alertmanager config: syntax, and the severity route every rule relies on.
am_config=infra/alertmanager/alertmanager.yml
# route_is RECEIVER LABEL=VALUE...: an alert with these labels goes to RECEIVER.
route_is() {
  local want=$1 got; shift
  got=$(amtool config routes test --config.file="$am_config" "$@" 2>/dev/null)
  [ "$got" = "$want" ] || { echo "labels $* route to '$got', expected '$want'"; return 1; }
}
# Every alert rule names a severity the route knows (page or warning).
rules_have_severity() {
  local alerts severities
  alerts=$(grep -c '^ *- alert:' "$rules")
  severities=$(grep -cE '^ *severity: (page|warning)$' "$rules")
  echo "$alerts alert rules, $severities with severity page or warning"
  [ "$alerts" -gt 0 ] && [ "$alerts" = "$severities" ]
}
if ensure amtool prometheus-alertmanager; then
  check "amtool check-config $am_config" amtool check-config "$am_config"
  check "amtool config routes test: severity=page goes to receiver page" route_is page severity=page alertname=FillCursorSaveErrors
  check "amtool config routes test: severity=warning goes to receiver warning" route_is warning severity=warning alertname=FillIngestHttpErrors
  check "amtool config routes test: an alert without severity still reaches receiver warning" route_is warning alertname=Unclassified
  check "every alert rule of $rules has severity page or warning" rules_have_severity
else
  echo "FAIL amtool checks: amtool unavailable"
  failed=$((failed + 5))
fi

# Grafana dashboard: valid JSON, every query panel on the dashboard's data source variable, every query valid PromQL.
# Grafana's variables are replaced as Grafana would expand them; promtool then parses each query as a recording rule
# (JSON is YAML), so a syntax error fails here, before any Prometheus runs it (the smoke runs them against data).
dashboard=infra/grafana/dashboards/grinder-fill-tracker.json
dashboard_structure() {
  jq -e '
    ([.panels[] | ., (.panels[]?)] | map(select(.targets))) as $p
    | ($p | length > 0)
      and ($p | all(.datasource.uid == "${datasource}" and (.targets | length > 0)
                    and (.targets | all((.expr | length > 0) and .datasource.uid == "${datasource}"))))
      and ([.panels[] | ., (.panels[]?)] | map(.id) | length == (unique | length))
      and (.uid | length > 0)
      and (.templating.list | map(.name) | index("datasource") != null)' "$dashboard" >/dev/null     && echo "$(jq '[.panels[] | ., (.panels[]?) | .targets[]?] | length' "$dashboard") queries in $(jq '[.panels[] | ., (.panels[]?) | select(.targets)] | length' "$dashboard") panels"
}
dashboard_promql() {
  local file
  file=$(mktemp --suffix=.json)
  jq '{groups: [{name: "dashboard", rules: [[.panels[] | ., (.panels[]?) | .targets[]?.expr] | to_entries[]
        | {record: "dashboard:query_\(.key)", expr: (.value | gsub("\\$__rate_interval"; "1m") | gsub("\\$__interval"; "15s")
                                                              | gsub("\\$\\{source:regex\\}"; ".*") | gsub("\\$source"; ".*"))}]}]}'     "$dashboard" >"$file" && promtool check rules "$file"
  local rc=$?
  rm -f "$file"
  return $rc
}
if ensure jq jq; then
  check "dashboard $dashboard: JSON, data source variable on every query, unique panel ids" dashboard_structure
  if command -v promtool >/dev/null 2>&1; then
    check "dashboard queries parse as PromQL (promtool check rules)" dashboard_promql
  else
    echo "FAIL dashboard PromQL: promtool unavailable"
    failed=$((failed + 1))
  fi
else
  echo "FAIL dashboard checks: jq unavailable"
  failed=$((failed + 2))
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
