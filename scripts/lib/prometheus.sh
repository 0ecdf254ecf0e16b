# shellcheck shell=bash
# Real Prometheus, Alertmanager and a webhook receiver for the smoke and the fire drill. Source it after common.sh.
#
#   installs      ensure_debian_command COMMAND PACKAGE, monitoring_tools [alertmanager]
#   Prometheus    prom_start VAR NAME [--alertmanager HOST:PORT] -- TARGET...    (VAR = its URL)
#                 prom_query URL EXPR, prom_value URL EXPR, prom_alert_state URL ALERT, prom_wait_alert ...
#                 prom_check_targets, prom_check_openmetrics, prom_check_self (rule and scrape failure counters)
#   Alertmanager  am_start VAR CONFIG (VAR = its URL), am_test_config SHIPPED RECEIVER_URL OUT
#   receiver      webhook_start VAR FILE (VAR = its base URL; every notification one JSON line in FILE)
#   dashboard     dashboard_check DASHBOARD_JSON PROM_URL START END [PANEL_TITLE_NOT_PRODUCED...]
#   quiet run     quiet_market_check: a fresh healthy silo, no new trades, its own Prometheus, no alert for 2 minutes
#   timings       alert_timing LINE (collected), alert_timings_print
#
# Every server runs as its own binary with its own config, data directory and a free loopback port (never the Debian
# systemd units, which would take the well-known ports other developers' runs may use). The rules are the shipped
# infra/prometheus/alerts.yml itself, referenced by path, never a copy: only the scrape interval is shortened. The
# rule group keeps its own 15 s evaluation interval as it ships.

PROM_RULES="$GRINDER_ROOT/infra/prometheus/alerts.yml"
# 2 s is well below the rules' 15 s evaluation interval, and a scrape timeout equal to it tolerates a loaded machine.
PROM_SCRAPE_INTERVAL=${PROM_SCRAPE_INTERVAL:-2s}
ALERT_TIMINGS=()

now_ms() { date +%s%3N; }
# seconds_between MS1 MS2: (MS2 - MS1) / 1000 with one decimal.
seconds_between() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b - a) / 1000 }'; }
# iso_ms TIMESTAMP: epoch milliseconds of an RFC 3339 timestamp such as Prometheus' activeAt.
iso_ms() { date -d "$1" +%s%3N 2>/dev/null; }

# Installs a Debian package quietly when COMMAND is missing (root and apt-get only; apt-get update once per script).
ensure_debian_command() {
  local command=$1 package=$2
  command -v "$command" >/dev/null 2>&1 && return 0
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "$command not found: apt-get install -y $package" >&2
    return 1
  fi
  echo "installing the Debian package $package" >&2
  if [ -z "${LIB_APT_UPDATED:-}" ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null 2>&1
    LIB_APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$package" >/dev/null 2>&1
  command -v "$command" >/dev/null 2>&1
}

# monitoring_tools [alertmanager]: Prometheus (and Alertmanager, amtool, python3 for the webhook receiver); exits the
# script with a FAIL when they cannot be had, since every later monitoring check needs them.
monitoring_tools() {
  local ok=0
  ensure_debian_command prometheus prometheus || ok=1
  if [ "${1:-}" = alertmanager ]; then
    ensure_debian_command prometheus-alertmanager prometheus-alertmanager || ok=1
    ensure_debian_command python3 python3 || ok=1
  fi
  if [ "$ok" -ne 0 ]; then
    fail "monitoring tools: Debian packages prometheus${1:+, prometheus-alertmanager, python3} unavailable"; summary; exit 1
  fi
  pass "monitoring tools: $(prometheus --version 2>&1 | head -n 1 | cut -d' ' -f1-3)${1:+, $(prometheus-alertmanager --version 2>&1 | head -n 1 | cut -d' ' -f1-3)}"
}

# prom_start VAR NAME [--alertmanager HOST:PORT] -- TARGET...: a Prometheus server scraping TARGETs (host:port of
# silos) as job "grinder" with the shipped rules, sending alerts to the Alertmanager when given. Waits until ready;
# stores its URL in VAR. Config and data live in $WORK/prometheus-NAME.
prom_start() {
  local var=$1 name=$2 am="" port dir target targets=""; shift 2
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do
    case $1 in --alertmanager) am=$2; shift 2 ;; *) echo "prom_start: unknown option $1" >&2; return 1 ;; esac
  done
  shift
  for target in "$@"; do targets+="${targets:+, }'$target'"; done
  free_port port || return 1
  dir="$WORK/prometheus-$name"
  mkdir -p "$dir/data"
  cat >"$dir/prometheus.yml" <<EOF
# Written by scripts/lib/prometheus.sh for one script run.
global:
  scrape_interval: $PROM_SCRAPE_INTERVAL
  scrape_timeout: $PROM_SCRAPE_INTERVAL
rule_files:
  - $PROM_RULES
scrape_configs:
  - job_name: grinder
    metrics_path: /metrics
    static_configs:
      - targets: [$targets]
EOF
  if [ -n "$am" ]; then
    cat >>"$dir/prometheus.yml" <<EOF
alerting:
  alertmanagers:
    - static_configs:
        - targets: ['$am']
EOF
  fi
  if ! promtool check config "$dir/prometheus.yml" >"$dir/check.log" 2>&1; then
    cat "$dir/check.log" >&2; return 1
  fi
  local pid url="http://127.0.0.1:$port"
  spawn pid "$dir/prometheus.log" -- prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/data" \
    --web.listen-address="127.0.0.1:$port" --storage.tsdb.retention.time=1d
  if ! wait_until 30 curl -sf "$url/-/ready"; then
    tail -n 20 "$dir/prometheus.log" >&2; return 1
  fi
  printf -v "$var" '%s' "$url"
}

# prom_query URL EXPR [TIME]: the JSON answer of /api/v1/query (empty on a transport error).
prom_query() {
  curl -sf --max-time 10 "$1/api/v1/query" --data-urlencode "query=$2" ${3:+--data-urlencode "time=$3"}
}

# prom_value URL EXPR: the value of the first sample of an instant query, empty when the result is empty.
prom_value() { prom_query "$1" "$2" | jq -r '.data.result[0].value[1] // empty' 2>/dev/null; }

# prom_alert_state URL ALERT: firing, pending or inactive (from /api/v1/alerts, firing wins over pending).
prom_alert_state() {
  curl -sf --max-time 10 "$1/api/v1/alerts" | jq -r --arg n "$2" '
    [.data.alerts[] | select(.labels.alertname == $n) | .state]
    | if index("firing") then "firing" elif index("pending") then "pending" else "inactive" end'
}

# prom_alert_active_at URL ALERT: activeAt (RFC 3339) of the alert's earliest active instance.
prom_alert_active_at() {
  curl -sf --max-time 10 "$1/api/v1/alerts" | jq -r --arg n "$2" \
    '[.data.alerts[] | select(.labels.alertname == $n) | .activeAt] | sort | .[0] // empty'
}

alert_timing() { ALERT_TIMINGS+=("$*"); echo "  .. timing: $*"; }
alert_timings_print() {
  local line
  [ "${#ALERT_TIMINGS[@]}" -gt 0 ] || return 0
  echo "alert timings (real Prometheus, rules as shipped, evaluation every 15 s, scrape every $PROM_SCRAPE_INTERVAL):"
  for line in "${ALERT_TIMINGS[@]}"; do echo "  $line"; done
}

# prom_wait_alert URL ALERT STATE TIMEOUT TRIGGER_MS WHAT: PASS when ALERT reaches STATE (firing, pending, inactive)
# within TIMEOUT seconds, and records how long after TRIGGER_MS (the moment the condition was caused) Prometheus made
# it active (its activeAt) and when the API showed it. WHAT describes the trigger.
prom_wait_alert() {
  local url=$1 alert=$2 state=$3 timeout=$4 trigger=$5 what=$6 seen active
  is_state() { [ "$(prom_alert_state "$url" "$alert")" = "$state" ]; }
  if wait_until "$timeout" is_state; then
    seen=$(now_ms)
    if [ "$state" = inactive ]; then
      pass "Prometheus: $alert resolved $(seconds_between "$trigger" "$seen") s after $what"
      alert_timing "$alert resolved: $(seconds_between "$trigger" "$seen") s after $what"
    else
      active=$(iso_ms "$(prom_alert_active_at "$url" "$alert")")
      pass "Prometheus: $alert is $state $(seconds_between "$trigger" "$active") s after $what (activeAt; seen in /api/v1/alerts after $(seconds_between "$trigger" "$seen") s)"
      alert_timing "$alert $state: $(seconds_between "$trigger" "$active") s after $what"
    fi
    return 0
  fi
  fail "Prometheus: $alert not $state within $timeout s after $what (now $(prom_alert_state "$url" "$alert"))"
  curl -sf --max-time 10 "$url/api/v1/alerts" | jq -c '.data.alerts[] | {alertname: .labels.alertname, state, value}' 2>/dev/null \
    | sed 's/^/    /' | head -n 20
  return 1
}

# prom_check_targets URL COUNT WHERE: exactly COUNT targets of job grinder, every one up with no scrape error.
prom_check_targets() {
  local url=$1 count=$2 where=$3 summary
  targets_ok() {
    summary=$(curl -sf --max-time 10 "$url/api/v1/targets?state=active" | jq -r '
      [.data.activeTargets[] | select(.labels.job == "grinder")] as $t
      | "\($t | length) \([$t[] | select(.health == "up" and .lastError == "")] | length)"')
    [ "$summary" = "$count $count" ]
  }
  if wait_until 20 targets_ok; then
    pass "$where: Prometheus /api/v1/targets: $count of $count grinder targets up, lastError empty"
  else
    fail "$where: Prometheus /api/v1/targets: expected $count grinder targets up without error"
    curl -sf --max-time 10 "$url/api/v1/targets" | jq -c '.data.activeTargets[] | {scrapeUrl, health, lastError}' | sed 's/^/    /'
  fi
}

# prom_check_openmetrics SILO_URL WHERE: the silo answers Prometheus' own Accept header with OpenMetrics, so the
# targets above were scraped in that format (Prometheus prefers it and negotiates it).
prom_check_openmetrics() {
  local silo=$1 where=$2 type body
  local accept='application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1'
  type=$(curl -sf --max-time 10 -o "$WORK/openmetrics.txt" -w '%{content_type}' -H "Accept: $accept" "$silo/metrics")
  body=$(tail -n 1 "$WORK/openmetrics.txt" 2>/dev/null)
  if [[ $type == application/openmetrics-text* ]] && [ "$body" = "# EOF" ]; then
    pass "$where: the silo answers Prometheus' Accept header with OpenMetrics ($type, ends with # EOF)"
  else
    fail "$where: Prometheus' Accept header got Content-Type '$type', last line '$body'"
  fi
}

# prom_check_self URL WHERE: Prometheus' own counters of rule evaluation failures and rejected samples are 0, and the
# fill tracker rule group has been evaluated.
prom_check_self() {
  local url=$1 where=$2 self bad iterations rules
  self=$(curl -sf --max-time 10 "$url/metrics")
  bad=$(awk '/^(prometheus_rule_evaluation_failures_total|prometheus_rule_group_iterations_missed_total|prometheus_target_scrapes_sample_(duplicate_timestamp|out_of_bounds|out_of_order)_total|prometheus_target_scrapes_exceeded_(sample_limit|body_size_limit)_total)[{ ]/ && $NF + 0 > 0 { print $0 }' <<<"$self")
  iterations=$(awk '/^prometheus_rule_group_iterations_total\{.*grinder_fill_tracker/ { s += $NF } END { print s + 0 }' <<<"$self")
  rules=$(curl -sf --max-time 10 "$url/api/v1/rules" | jq -r '[.data.groups[].rules[]] | "\(length) \([.[] | select(.health == "ok")] | length)"')
  if [ -z "$bad" ] && num_gt "$iterations" 0 && [ "${rules% *}" = "${rules#* }" ] && num_gt "${rules% *}" 0; then
    pass "$where: Prometheus evaluated the rule group $iterations times, ${rules% *} rules all health ok, no evaluation failure or rejected sample"
  else
    fail "$where: Prometheus self-check: iterations $iterations, rules (total ok) $rules, failures: ${bad:-none}"
    curl -sf --max-time 10 "$url/api/v1/rules" | jq -c '.data.groups[].rules[] | select(.health != "ok") | {name, lastError}' | sed 's/^/    /'
  fi
}

# webhook_start VAR FILE: the Alertmanager webhook receiver (scripts/lib/alert_webhook_receiver.py) on a free port.
webhook_start() {
  local var=$1 file=$2 port pid
  free_port port || return 1
  : >"$file"
  spawn pid "$WORK/webhook.log" -- python3 "$GRINDER_ROOT/scripts/lib/alert_webhook_receiver.py" "$port" "$file"
  wait_until 15 curl -sf "http://127.0.0.1:$port/" || { tail -n 20 "$WORK/webhook.log" >&2; return 1; }
  printf -v "$var" '%s' "http://127.0.0.1:$port"
}

# am_test_config SHIPPED RECEIVER_URL OUT: the shipped Alertmanager config with its example receiver host replaced by
# RECEIVER_URL and the grouping waits shortened (a resolved notification goes out at the next group_interval, 5 m as
# shipped). Routes, matchers and receivers stay as shipped. Fails when a substitution did not take.
am_test_config() {
  local shipped=$1 receiver=$2 out=$3
  sed -e "s#http://alert-receiver:9095#$receiver#g" \
      -e 's/^\( *group_wait:\).*/\1 1s/' -e 's/^\( *group_interval:\).*/\1 5s/' "$shipped" >"$out"
  grep -q "$receiver/page" "$out" && grep -q "$receiver/warning" "$out" && ! grep -q alert-receiver "$out" \
    && grep -q 'group_interval: 5s' "$out" && amtool check-config "$out" >/dev/null
}

# am_start VAR CONFIG: Alertmanager on a free loopback port, clustering off (its gossip port would be 9094 on every
# interface otherwise). Stores its URL in VAR.
am_start() {
  local var=$1 config=$2 port pid dir="$WORK/alertmanager"
  free_port port || return 1
  mkdir -p "$dir/data"
  spawn pid "$dir/alertmanager.log" -- prometheus-alertmanager --config.file="$config" --storage.path="$dir/data" \
    --web.listen-address="127.0.0.1:$port" --cluster.listen-address=
  wait_until 30 curl -sf "http://127.0.0.1:$port/-/ready" || { tail -n 20 "$dir/alertmanager.log" >&2; return 1; }
  printf -v "$var" '%s' "http://127.0.0.1:$port"
}

# webhook_alerts FILE PATH ALERT STATUS: the notifications' alerts received on PATH for ALERT with STATUS, one JSON
# object per line.
webhook_alerts() {
  jq -c --arg p "$2" --arg n "$3" --arg s "$4" \
    'select(.path == $p) | .body.alerts[]? | select(.labels.alertname == $n and .status == $s)' "$1" 2>/dev/null
}

# dashboard_check DASHBOARD_JSON PROM_URL START END [TITLE...]: runs every query of every panel (rows included) as
# Grafana would, a range query over START..END (epoch seconds), with Grafana's variables replaced: $__rate_interval
# by 30s (Grafana's lower bound is 4 scrape intervals; 30 s also spans the smoke's silo restarts), $__interval by the
# step, $source by "All" (.*).
# FAIL on a query error, and on an empty result unless the panel title is one of TITLE (data this run does not
# produce); those are reported as SKIP when empty.
dashboard_check() {
  local json=$1 url=$2 start=$3 end=$4; shift 4
  local -a not_produced=("$@")
  local checked=0 line title expr query answer status count t skip
  local step=5
  while IFS=$'\t' read -r title expr; do
    [ -n "$expr" ] || continue
    checked=$((checked + 1))
    query=${expr//'$__rate_interval'/30s}
    query=${query//'$__interval'/${step}s}
    query=${query//'${source:regex}'/.*}
    query=${query//'$source'/.*}
    answer=$(curl -s --max-time 20 "$url/api/v1/query_range" --data-urlencode "query=$query" \
      --data-urlencode "start=$start" --data-urlencode "end=$end" --data-urlencode "step=$step")
    status=$(jq -r '.status // "no answer"' <<<"$answer" 2>/dev/null)
    count=$(jq -r '.data.result | length' <<<"$answer" 2>/dev/null)
    if [ "$status" != success ]; then
      fail "dashboard panel '$title': query error: $(jq -r '.error // empty' <<<"$answer" 2>/dev/null) ($query)"
      continue
    fi
    skip=0
    for t in "${not_produced[@]}"; do [ "$t" = "$title" ] && skip=1; done
    if num_gt "$count" 0; then
      pass "dashboard panel '$title': $count series ($query)"
    elif [ "$skip" -eq 1 ]; then
      skip "dashboard panel '$title': no data, as expected (not produced by this run), query ok ($query)"
    else
      fail "dashboard panel '$title': empty result ($query)"
    fi
  done < <(jq -r '[.panels[] | ., (.panels[]?)] | .[] | select(.targets) | .title as $t | .targets[] | select(.hide != true) | [$t, .expr] | @tsv' "$json")
  DASHBOARD_CHECKED=$checked
  check "dashboard: $checked panel queries run against Prometheus" num_gt "$checked" 0
}

# quiet_market_check: the healthy quiet-market run. A fresh silo (local mode, its own data directory) reads a fake
# exchange whose generator is off, so after the history nothing new arrives, and its own Prometheus watches it with the
# shipped rules for at least 2 minutes: no alert may be pending or firing, while the silo polls and saves every second.
# Needs WORK, SILO_DLL, FAKE_DLL (common.sh).
quiet_market_check() {
  echo "=== Quiet market: a fresh silo, no new trades, its own Prometheus, at least 2 minutes [t+$((SECONDS - started)) s]"
  local qfake_port qhttp_port qsilo_port qgateway_port qkey qsecret qfake qurl qfake_pid qsilo_pid qprom
  free_port qfake_port && free_port qhttp_port && free_port qsilo_port && free_port qgateway_port || { fail "free ports"; return; }
  qfake="http://127.0.0.1:$qfake_port"; qurl="http://127.0.0.1:$qhttp_port"
  qkey="quiet-key-$(tr -dc 'a-z0-9' </dev/urandom | head -c 16)"
  qsecret="quiet-secret-$(tr -dc 'a-z0-9' </dev/urandom | head -c 24)"
  # History only, generator off: after the first read there is nothing new to count.
  SPAWN_DIR=$WORK spawn qfake_pid "$WORK/quiet-fake.log" "FakeBinance__Accounts__0=$qkey:$qsecret" -- \
    dotnet "$FAKE_DLL" --urls "$qfake" --symbols BTCUSDT,ETHUSDT --generate-every 0 --initial-trades 10 --seed 31
  check "Quiet: fake exchange (generator off) answers" wait_until 30 curl -sf "$qfake/_fake/status"
  SPAWN_DIR=$WORK spawn qsilo_pid "$WORK/quiet-silo.log" FILL_INGEST_ENABLED=1 \
    "BINANCE_API_KEY=$qkey" "BINANCE_API_SECRET=$qsecret" "Grinder__Binance__BaseUrl=$qfake" Grinder__Symbols=BTCUSDT,ETHUSDT \
    "Grinder__Ingest__PollInterval=00:00:01" "GRINDER_DATA_DIR=$WORK/quiet-data" \
    "Grinder__Orleans__SiloPort=$qsilo_port" "Grinder__Orleans__GatewayPort=$qgateway_port" -- \
    dotnet "$SILO_DLL" --urls "$qurl"
  check "Quiet: silo serves $qurl/metrics" wait_until 90 curl -sf "$qurl/metrics"
  if ! prom_start qprom quiet -- "127.0.0.1:$qhttp_port"; then fail "Quiet: Prometheus did not start"; return; fi
  pass "Quiet: Prometheus ready on $qprom"
  local valid
  valid=$(json_number "$(curl -sf "$qfake/_fake/valid-trade-count?apiKey=$qkey")" validTradeCount)
  qfills() { metric_sum "$(scrape "$qurl")" grinder_fills_total 'source="reconcile"'; }
  qmetric() { metric_value "$(scrape "$qurl")" "$1"; }
  bootstrapped() { num_eq "$(qfills)" "$valid"; }
  check "Quiet: the silo counted the fake's $valid history rows" wait_until 30 bootstrapped
  # The window starts at the first rule evaluation after Prometheus holds two scrapes of the polling silo: with a single
  # sample the polls rule has no increase yet, and FillIngestNoPolls is pending for that one evaluation (for: 10m, so
  # it never fires; a Prometheus restart in production shows the same). The run is healthy from then on.
  two_scrapes() { num_ge "$(prom_value "$qprom" 'count_over_time(grinder_fill_ingest_polls_total{source="reconcile"}[1m])')" 2; }
  check "Quiet: Prometheus has scraped the polling silo twice" wait_until 30 two_scrapes
  local two_ms; two_ms=$(now_ms)
  evaluated_after() {
    num_gt "$(iso_ms "$(curl -sf "$qprom/api/v1/rules" | jq -r '[.data.groups[].rules[].lastEvaluation] | min')")" "$two_ms"
  }
  check "Quiet: Prometheus evaluated the rules on those samples" wait_until 30 evaluated_after
  local begin=$SECONDS f0 p0 s0 it0
  f0=$(qfills); p0=$(qmetric 'grinder_fill_ingest_polls_total{source="reconcile"}')
  s0=$(qmetric 'grinder_fill_cursor_save_total{source="reconcile",result="ok"}')
  it0=$(curl -sf "$qprom/metrics" | awk '/^prometheus_rule_group_iterations_total\{.*grinder_fill_tracker/ { s += $NF } END { print s + 0 }')
  # /api/v1/alerts shows what the last evaluation found; sampled every 2 s it sees a pending alert that lasts a single
  # evaluation even if the ALERTS series missed it.
  : >"$WORK/quiet-alerts.log"
  while [ $((SECONDS - begin)) -lt 125 ]; do
    curl -sf --max-time 5 "$qprom/api/v1/alerts" | jq -c '.data.alerts[] | {alertname: .labels.alertname, state}' >>"$WORK/quiet-alerts.log"
    sleep 2
  done
  check "Quiet: /api/v1/alerts empty at every sample (every 2 s)" test ! -s "$WORK/quiet-alerts.log"
  local window=$((SECONDS - begin)) alerts it1 f1 p1 s1
  alerts=$(prom_query "$qprom" "count by (alertname, alertstate) (count_over_time(ALERTS[${window}s]))" | jq -c '.data.result')
  check "Quiet: no alert pending or firing at any evaluation of the ${window} s window (ALERTS: ${alerts:-no answer})" test "$alerts" = "[]"
  check "Quiet: /api/v1/alerts is empty at the end" test "$(curl -sf "$qprom/api/v1/alerts" | jq '.data.alerts | length')" = 0
  it1=$(curl -sf "$qprom/metrics" | awk '/^prometheus_rule_group_iterations_total\{.*grinder_fill_tracker/ { s += $NF } END { print s + 0 }')
  check "Quiet: the rules were evaluated throughout ($((it1 - it0)) evaluations in ${window} s, one per 15 s)" num_ge $((it1 - it0)) 8
  f1=$(qfills); p1=$(qmetric 'grinder_fill_ingest_polls_total{source="reconcile"}')
  s1=$(qmetric 'grinder_fill_cursor_save_total{source="reconcile",result="ok"}')
  check "Quiet: the market was quiet (fills $f0 -> $f1, the fake's valid rows still $valid)" \
    bash -c '[ "$1" = "$2" ] && [ "$1" = "$3" ]' _ "$f0" "$f1" "$(json_number "$(curl -sf "$qfake/_fake/valid-trade-count?apiKey=$qkey")" validTradeCount)"
  check "Quiet: the silo kept polling and saving (polls $p0 -> $p1, saves ok $s0 -> $s1)" bash -c 'awk -v a="$1" -v b="$2" -v c="$3" -v d="$4" "BEGIN { exit !(b > a + 60 && d > c + 60) }"' _ "$p0" "$p1" "$s0" "$s1"
  check "Quiet: the rules saw the polls (source:grinder_fill_ingest_polls:increase5m > 0)" \
    num_gt "$(prom_value "$qprom" 'source:grinder_fill_ingest_polls:increase5m{source="reconcile"}')" 0
  check "Quiet: the silo target was up at every scrape of the window" \
    num_eq "$(prom_value "$qprom" "min_over_time(up{job=\"grinder\"}[${window}s])")" 1
  prom_check_targets "$qprom" 1 "Quiet"
  prom_check_self "$qprom" "Quiet"
  stop_process "$qsilo_pid" 45
  check "Quiet: silo stopped on SIGTERM with exit code 0" test "$STOPPED_CODE" = 0
  check_secrets_absent "$qkey" "$qsecret" -- "$WORK/quiet-silo.log"
}
