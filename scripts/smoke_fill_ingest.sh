#!/usr/bin/env bash
# Local CI smoke of fill ingest (runbook 26, "Companion scripts"): no keys, no network beyond loopback.
#
#   bash scripts/smoke_fill_ingest.sh              local mode (file grain state in a temp GRINDER_DATA_DIR)
#   bash scripts/smoke_fill_ingest.sh --postgres   PostgreSQL mode (GRINDER_TEST_POSTGRES admin connection string if
#                                                  set, else a throwaway server; needs the postgresql binaries)
#
# Starts the fake exchange executable (one account, a trade generator) and the silo as real processes on free loopback
# ports, then walks the runbook with its own `curl -sf .../metrics | grep ...` commands:
#   Gate 0 (ingest off: exact placeholder lines), Gate 1 (ingest on: polls, fills with source="reconcile", cursor
#   saved), Gate 2 (SIGTERM restart: cursor loaded, polls continue, no wild jump against the fake's own trade count),
#   Rollback (ingest off again: enabled 0, polls and fills frozen, not reset), the forbidden-label check (evidence
#   command 4 and more), the --metrics-out artifact (safety invariants 1 and 5), and the fake's write log (empty).
# Prints PASS/FAIL lines and "N passed, N failed"; exits non-zero on any failure. Every wait polls an observable
# signal with a timeout. Logs are kept (path printed) when something failed.
set -uo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
# shellcheck source=lib/prometheus.sh
source "$(dirname "$0")/lib/prometheus.sh"

mode=local
case "${1:-}" in
  "") ;;
  --postgres) mode=postgres ;;
  *) echo "usage: $0 [--postgres]" >&2; exit 64 ;;
esac

script_begin smoke_fill_ingest "$mode mode"

[ "$mode" = postgres ] && postgres_setup
check "jq available (installed from Debian when missing)" ensure_jq
free_port FAKE_PORT && free_port HTTP_PORT && free_port SILO_PORT && free_port GATEWAY_PORT || { fail "free ports"; summary; exit 1; }
FAKE="http://127.0.0.1:$FAKE_PORT"
URL="http://127.0.0.1:$HTTP_PORT"
DATA="$WORK/data"
# Random per run, so a leak into metrics, health or logs is unmistakable.
API_KEY="smoke-key-$(tr -dc 'a-z0-9' </dev/urandom | head -c 16)"
API_SECRET="smoke-secret-$(tr -dc 'a-z0-9' </dev/urandom | head -c 24)"
SYMBOLS=BTCUSDT,ETHUSDT

# The fake exchange: 15 trade ids of history per symbol (one day back, inside the bootstrap lookback), then 2 ids per
# symbol every 2 s; some ids are self-trades (two rows, buyer and seller). The account comes through the environment.
SPAWN_DIR=$WORK spawn FAKE_PID "$WORK/fake.log" "FakeBinance__Accounts__0=$API_KEY:$API_SECRET" -- \
  dotnet "$FAKE_DLL" --urls "$FAKE" --symbols "$SYMBOLS" --generate-every 00:00:02 --generate-count 2 \
  --initial-trades 15 --self-trade-fraction 0.1 --seed 26
if wait_until 30 curl -sf "$FAKE/_fake/status"; then
  pass "fake exchange answers on $FAKE (/_fake/status)"
else
  fail "fake exchange did not start"; tail -n 20 "$WORK/fake.log"; summary; exit 1
fi

fake_valid_count() { json_number "$(curl -sf "$FAKE/_fake/valid-trade-count?apiKey=$API_KEY")" validTradeCount; }
fake_requests() { json_number "$(curl -sf "$FAKE/_fake/status")" requests; }

# start_silo LABEL INGEST(0|1): starts the silo process; waits until /metrics answers.
SILO_PID=""
start_silo() {
  local label=$1 ingest=$2
  local -a env=(
    "BINANCE_API_KEY=$API_KEY" "BINANCE_API_SECRET=$API_SECRET"
    "Grinder__Binance__BaseUrl=$FAKE" "Grinder__Symbols=$SYMBOLS"
    "Grinder__Ingest__PollInterval=00:00:01"
    "Grinder__Orleans__SiloPort=$SILO_PORT" "Grinder__Orleans__GatewayPort=$GATEWAY_PORT"
  )
  [ "$ingest" = 1 ] && env+=("FILL_INGEST_ENABLED=1")
  if [ "$mode" = postgres ]; then env+=("GRINDER_POSTGRES=$GRINDER_PG"); else env+=("GRINDER_DATA_DIR=$DATA"); fi
  SPAWN_DIR=$WORK spawn SILO_PID "$WORK/silo-$label.log" "${env[@]}" -- \
    dotnet "$SILO_DLL" --urls "$URL" --metrics-out "$WORK/metrics-out-$label.prom"
  local begun=$SECONDS deadline=$((SECONDS + 90))
  while [ "$SECONDS" -lt "$deadline" ]; do
    if ! kill -0 "$SILO_PID" 2>/dev/null; then
      fail "silo ($label) exited during start"; tail -n 30 "$WORK/silo-$label.log"; return 1
    fi
    if curl -sf --max-time 5 "$URL/metrics" >/dev/null; then
      pass "silo ($label, FILL_INGEST_ENABLED=$([ "$ingest" = 1 ] && echo 1 || echo unset)) serves $URL/metrics after $((SECONDS - begun)) s"
      return 0
    fi
    sleep 0.25
  done
  fail "silo ($label) did not serve /metrics within 90 s"; tail -n 30 "$WORK/silo-$label.log"; return 1
}

# stop_silo LABEL: SIGTERM (docker stop, systemd), expects a clean exit and the --metrics-out file.
stop_silo() {
  local label=$1 code begun=$SECONDS
  stop_process "$SILO_PID" 45
  code=$STOPPED_CODE
  if [ "$code" = 0 ]; then pass "silo ($label) stopped on SIGTERM with exit code 0 after $((SECONDS - begun)) s"; else fail "silo ($label) exit code $code after SIGTERM"; fi
  check_metrics_out "$WORK/metrics-out-$label.prom" "$label"
}

polls() { metric_value "$(scrape "$URL")" 'grinder_fill_ingest_polls_total{source="reconcile"}'; }
fills_sum() { metric_sum "$1" grinder_fills_total 'source="reconcile"'; }
polls_above() { num_gt "$(polls)" "$1"; }
fills_above() { num_gt "$(fills_sum "$(scrape "$URL")")" "$1"; }

# Stored cursor: the state file (local) or the grinder_grain_state_json row (PostgreSQL); prints its version.
stored_version() {
  if [ "$mode" = postgres ]; then
    (pg_use_connection_string "$GRINDER_PG"; psql -X -q -t -A -c \
      "SELECT version FROM grinder_grain_state_json WHERE grain_key = 'acct-main' AND state_name = 'ingest'")
  else
    json_number "$(cat "$DATA/fills/ingest/fillingest%2Facct-main.json" 2>/dev/null)" version
  fi
}
stored_version_above() { num_gt "$(stored_version)" "$1"; }
cursor_tool() {
  if [ "$mode" = postgres ]; then
    GRINDER_URL=$URL GRINDER_POSTGRES=$GRINDER_PG GRINDER_DATA_DIR="" bash "$GRINDER_ROOT/scripts/fill_cursor.sh" "$@"
  else
    GRINDER_URL=$URL GRINDER_POSTGRES="" GRINDER_DATA_DIR=$DATA bash "$GRINDER_ROOT/scripts/fill_cursor.sh" "$@"
  fi
}

forbidden_labels() { check_forbidden_labels "$1" "$URL" "$API_KEY" "$API_SECRET"; }

# Exactly once, three ways: counted fills in /metrics never exceed the fake's valid rows (a re-count would), they catch
# up with the rows that existed when the check began (nothing lost), and the stored counters equal the fake's rows up
# to the stored cursors (exact, independent of the generator's timing).
stored_state() {
  if [ "$mode" = postgres ]; then
    (pg_use_connection_string "$GRINDER_PG"; psql -X -q -t -A -c \
      "SELECT state::text FROM grinder_grain_state_json WHERE grain_key = 'acct-main' AND state_name = 'ingest'")
  else
    jq -c '.state' "$DATA/fills/ingest/fillingest%2Facct-main.json" 2>/dev/null
  fi
}
stored_exact() { stored_fills_match_fake "$(stored_state)" "$FAKE" "$API_KEY"; }
exactly_once() {
  local where=$1 target
  : >"$WORK/over.log"
  target=$(fake_valid_count)
  never_over_and_caught_up() {
    local f v
    f=$(fills_sum "$(scrape "$URL")")
    v=$(fake_valid_count)
    num_gt "$f" "$v" && echo "fills $f > valid rows $v" >>"$WORK/over.log"
    num_ge "$f" "$target"
  }
  check "$where: counted fills catch up with the fake's $target valid rows" wait_until 30 never_over_and_caught_up
  check "$where: counted fills never exceeded the fake's valid rows (no wild jump)" test ! -s "$WORK/over.log"
  if wait_until 20 stored_exact; then
    pass "$where: exactly once: $MATCH_DETAIL"
  else
    fail "$where: exactly once: $MATCH_DETAIL"
  fi
}

# --- Prometheus (the operator's view of the same run) -----------------------------------------------------------------
# A real Prometheus scrapes the silo of every gate (the same address throughout) with the shipped alert rules; the
# Grafana dashboard's queries run against it at the end. (The healthy quiet-market run, a separate silo watched by its
# own Prometheus, is in the fire drill: it runs there while the drill waits out an alert window.)
DASHBOARD="$GRINDER_ROOT/infra/grafana/dashboards/grinder-fill-tracker.json"
# Panels whose data this run cannot produce: the re-scan counter belongs to a later change of the ingest grain.
DASHBOARD_NOT_PRODUCED=("Fills recovered by the re-scan (per interval)")

smoke_monitoring_start() {
  monitoring_tools
  if prom_start PROM smoke -- "127.0.0.1:$HTTP_PORT"; then
    pass "Prometheus ready on $PROM, scraping $URL every $PROM_SCRAPE_INTERVAL with infra/prometheus/alerts.yml"
    PROM_STARTED_S=$(date +%s)
  else
    fail "Prometheus did not start"; summary; exit 1
  fi
}

smoke_monitoring_gate0() {
  prom_check_targets "$PROM" 1 "Gate 0"
  prom_check_openmetrics "$URL" "Gate 0"
  # for: 5m as shipped: pending is what a run of seconds can see; firing would need 5 minutes of ingest off.
  prom_wait_alert "$PROM" FillIngestDisabled pending 45 "$gate0_serving_ms" "the silo served /metrics with FILL_INGEST_ENABLED unset"
  local value
  value=$(curl -sf "$PROM/api/v1/alerts" | jq -r '.data.alerts[] | select(.labels.alertname == "FillIngestDisabled") | "\(.labels.source) \(.labels.severity)"')
  check "Gate 0: the pending FillIngestDisabled is source=reconcile, severity=warning ($value)" test "$value" = "reconcile warning"
  # The dashboard's alert panel reads the ALERTS series: it must hold the pending state too. (A Prometheus only seconds
  # old may not store its first evaluations; the next one, 15 s on, is stored.)
  alerts_series() { num_eq "$(prom_value "$PROM" 'ALERTS{alertname="FillIngestDisabled",alertstate="pending",source="reconcile"}')" 1; }
  check "Gate 0: Prometheus' ALERTS series holds FillIngestDisabled pending" wait_until 40 alerts_series
}

smoke_dashboard() {
  echo "=== Grafana dashboard: every panel query against the smoke's Prometheus [t+$((SECONDS - started)) s]"
  check "dashboard JSON parses (jq)" jq -e '.panels | length > 0' "$DASHBOARD"
  dashboard_check "$DASHBOARD" "$PROM" "$PROM_STARTED_S" "$(date +%s)" "${DASHBOARD_NOT_PRODUCED[@]}"
  echo "dashboard: $DASHBOARD_CHECKED panel queries checked"
  prom_check_self "$PROM" "Smoke"
}

smoke_monitoring_start

# --- Gate 0: baseline, ingest off -------------------------------------------------------------------------------------
echo "=== Gate 0: baseline (FILL_INGEST_ENABLED unset) [t+$((SECONDS - started)) s]"
start_silo gate0 0 || { summary; exit 1; }
gate0_serving_ms=$(now_ms)
check_gate0_placeholders "$URL"
check "Gate 0: /healthz answers (curl -sf $URL/healthz)" curl -sf "$URL/healthz"
check "Gate 0: ingest off reads nothing from the exchange (fake request log empty)" num_eq "$(fake_requests)" 0
smoke_monitoring_gate0
stop_silo gate0

# --- Gate 1: enable ---------------------------------------------------------------------------------------------------
echo "=== Gate 1: enable (FILL_INGEST_ENABLED=1) [t+$((SECONDS - started)) s]"
start_silo gate1 1 || { summary; exit 1; }
check "Gate 1: first poll completes (polls_total{source=\"reconcile\"} > 0 within 30 s)" wait_until 30 polls_above 0
p1=$(polls)
check "Gate 1: polls are growing (grep grinder_fill_ingest_polls_total: $p1, then more)" wait_until 15 polls_above "$p1"
out=$(curl -sf "$URL/metrics" | grep grinder_fill_ingest_enabled)
expect_series "Gate 1: grep grinder_fill_ingest_enabled shows 1" "$out" 'grinder_fill_ingest_enabled{source="reconcile"} 1'
out=$(curl -sf "$URL/metrics" | grep grinder_fill_ingest_errors_total)
expect_series "Gate 1: grep grinder_fill_ingest_errors_total shows no error lines (placeholder only)" "$out" \
  'grinder_fill_ingest_errors_total{source="none",reason="none"} 0'
out=$(curl -sf "$URL/metrics" | grep grinder_fills_total | series_lines)
if [ -n "$out" ] && ! grep -qv 'source="reconcile"' <<<"$out" && grep -q 'grinder_fills_total{source="reconcile",side="\(buy\|sell\)",liquidity="\(maker\|taker\)"} [1-9]' <<<"$out"; then
  pass "Gate 1: grep grinder_fills_total shows real labels only (source=\"reconcile\", side, liquidity) with counts > 0"
else
  fail "Gate 1: fills series: $out"
fi
f1=$(fills_sum "$(scrape "$URL")")
check "Gate 1: fills are growing (sum $f1, then more, as the generator adds trades)" wait_until 15 fills_above "$f1"
# Exactly once on the first read: at some scrape the counted fills equal the fake's valid rows (history + generated).
exactly_once "Gate 1"
value=$(metric_value "$(scrape "$URL")" 'grinder_fill_cursor_save_total{source="reconcile",result="ok"}')
check "Gate 1: grep grinder_fill_cursor_save_total shows result=\"ok\" > 0 ($value)" num_gt "$value" 0
value=$(metric_value "$(scrape "$URL")" 'grinder_reconcile_runs_total')
check "Gate 1: grinder_reconcile_runs_total > 0 ($value)" num_gt "$value" 0
value=$(metric_value "$(scrape "$URL")" 'grinder_fill_cursor_age_seconds{source="reconcile"}')
check "Gate 1: grinder_fill_cursor_age_seconds{source=\"reconcile\"} is low (< 30 s: $value)" awk -v a="$value" 'BEGIN { exit !(a != "" && a + 0 < 30) }'
if [ "$mode" = postgres ]; then
  check "Gate 1: cursor row exists (psql: grinder_grain_state_json grain_key='acct-main', state_name='ingest')" num_gt "$(stored_version)" 0
else
  check "Gate 1: cursor file exists (ls -la \$GRINDER_DATA_DIR/fills/ingest/fillingest%2Facct-main.json)" ls -la "$DATA/fills/ingest/fillingest%2Facct-main.json"
fi
v1=$(stored_version)
check "Gate 1: the stored cursor changes (version $v1, then higher)" wait_until 10 stored_version_above "$v1"
out=$(cursor_tool show main)
if grep -q '"LastTradeId": *10[0-9]\{5\}' <<<"$out" && grep -q BTCUSDT <<<"$out" && grep -q ETHUSDT <<<"$out"; then
  pass "Gate 1: scripts/fill_cursor.sh show main prints both symbols' cursors (LastTradeId from the fake's id range)"
else
  fail "Gate 1: scripts/fill_cursor.sh show main:"; head -n 30 <<<"$out" | sed 's/^/    /'
fi
forbidden_labels "Gate 1"
fills_before_restart=$(fills_sum "$(scrape "$URL")")
prom_check_targets "$PROM" 1 "Gate 1 (real fill series)"
stop_silo gate1

# --- Gate 2: restart safety -------------------------------------------------------------------------------------------
echo "=== Gate 2: restart safety (SIGTERM, start again) [t+$((SECONDS - started)) s]"
last=$(cat "$WORK/metrics-out-gate1.prom")
f_stop=$(fills_sum "$last")
p_stop=$(metric_value "$last" 'grinder_fill_ingest_polls_total{source="reconcile"}')
num_ge "$f_stop" "$fills_before_restart" || f_stop=$fills_before_restart
start_silo gate2 1 || { summary; exit 1; }
first=$(scrape "$URL")
check "Gate 2: polls did not reset (first scrape $(metric_value "$first" 'grinder_fill_ingest_polls_total{source="reconcile"}') >= $p_stop at stop)" \
  num_ge "$(metric_value "$first" 'grinder_fill_ingest_polls_total{source="reconcile"}')" "$p_stop"
check "Gate 2: fills did not reset (first scrape $(fills_sum "$first") >= $f_stop at stop)" num_ge "$(fills_sum "$first")" "$f_stop"
load_ok() { num_gt "$(metric_value "$(scrape "$URL")" 'grinder_fill_cursor_load_total{source="reconcile",result="ok"}')" 0; }
check "Gate 2: grep grinder_fill_cursor_load_total shows result=\"ok\" > 0" wait_until 20 load_ok
check "Gate 2: polls continue growing (above $p_stop)" wait_until 20 polls_above "$p_stop"
exactly_once "Gate 2"
if [ "$mode" = postgres ]; then
  check "Gate 2: cursor row still present" num_gt "$(stored_version)" 0
else
  check "Gate 2: cursor file still present" ls -la "$DATA/fills/ingest/fillingest%2Facct-main.json"
fi
out=$(curl -sf "$URL/metrics" | grep grinder_fill_ingest_errors_total)
expect_series "Gate 2: still no error lines" "$out" 'grinder_fill_ingest_errors_total{source="none",reason="none"} 0'
stop_silo gate2

# --- Rollback ---------------------------------------------------------------------------------------------------------
echo "=== Rollback (FILL_INGEST_ENABLED unset) [t+$((SECONDS - started)) s]"
last=$(cat "$WORK/metrics-out-gate2.prom")
start_silo rollback 0 || { summary; exit 1; }
out=$(curl -sf "$URL/metrics" | grep grinder_fill_ingest_enabled)
expect_series "Rollback: grep grinder_fill_ingest_enabled shows 0" "$out" 'grinder_fill_ingest_enabled{source="reconcile"} 0'
s1=$(scrape "$URL")
r1=$(fake_requests)
v1=$(fake_valid_count)
# The generator is the clock: two more generator ticks (>= 8 rows) is several poll intervals of 1 s.
generator_moved() { num_ge "$(fake_valid_count)" $((v1 + 8)); }
check "Rollback: the fake keeps generating trades meanwhile (valid rows $v1 -> $((v1 + 8)))" wait_until 20 generator_moved
s2=$(scrape "$URL")
pr1=$(metric_value "$s1" 'grinder_fill_ingest_polls_total{source="reconcile"}')
pr2=$(metric_value "$s2" 'grinder_fill_ingest_polls_total{source="reconcile"}')
check "Rollback: polls frozen ($pr1 -> $pr2)" num_eq "$pr2" "$pr1"
fr1=$(fills_sum "$s1"); fr2=$(fills_sum "$s2")
check "Rollback: fills frozen ($fr1 -> $fr2)" num_eq "$fr2" "$fr1"
check "Rollback: fills not reset (>= $(fills_sum "$last") at the last stop, > 0)" num_ge "$fr1" "$(fills_sum "$last")"
check "Rollback: polls not reset (>= $(metric_value "$last" 'grinder_fill_ingest_polls_total{source="reconcile"}'))" \
  num_ge "$pr1" "$(metric_value "$last" 'grinder_fill_ingest_polls_total{source="reconcile"}')"
check "Rollback: no exchange reads while off (fake request count $r1 unchanged)" num_eq "$(fake_requests)" "$r1"
forbidden_labels "Rollback"
stop_silo rollback

# --- Unreadable stored state: load error, then the runbook's "delete and restart" -------------------------------------
echo "=== Unreadable cursor state: FILL_CURSOR_LOAD_ERROR, then scripts/fill_cursor.sh delete [t+$((SECONDS - started)) s]"
if [ "$mode" = postgres ]; then
  (pg_use_connection_string "$GRINDER_PG"; psql -X -q -c "UPDATE grinder_grain_state SET payload = convert_to('not json {', 'UTF8')
     WHERE grain_type = 'ingest' AND grain_id_ext = 'acct-main'") >/dev/null
else
  printf 'not json {' >"$DATA/fills/ingest/fillingest%2Facct-main.json"
fi
start_silo unreadable 1 || { summary; exit 1; }
load_error() { num_gt "$(metric_value "$(scrape "$URL")" 'grinder_fill_cursor_load_total{source="reconcile",result="error"}')" 0; }
check "Unreadable: grinder_fill_cursor_load_total{source=\"reconcile\",result=\"error\"} > 0" wait_until 20 load_error
check "Unreadable: the log has FILL_CURSOR_LOAD_ERROR" grep -q FILL_CURSOR_LOAD_ERROR "$WORK/silo-unreadable.log"
out=$(cursor_tool show main 2>&1)
check "Unreadable: scripts/fill_cursor.sh show main shows the unreadable state" grep -qE 'not json|not readable' <<<"$out"
out=$(cursor_tool reset main 2>&1); rc=$?
check "Unreadable: scripts/fill_cursor.sh reset main is refused and points at delete (exit $rc)" \
  bash -c '[ "$1" -ne 0 ] && grep -q "fill_cursor.sh delete" <<<"$2"' _ "$rc" "$out"
cursor_tool delete main --yes >/dev/null 2>&1; rc=$?
check "Unreadable: scripts/fill_cursor.sh delete main --yes refuses while a silo runs (exit $rc = 3)" test "$rc" = 3
stop_silo unreadable
cursor_tool delete main >/dev/null 2>&1; rc=$?
check "Unreadable: scripts/fill_cursor.sh delete main without --yes deletes nothing (exit $rc = 2)" test "$rc" = 2
out=$(cursor_tool delete main --yes 2>&1); rc=$?
check "Unreadable: scripts/fill_cursor.sh delete main --yes deletes the stored state (exit $rc)" test "$rc" = 0
sed -n '/^deleted\|^removed/p' <<<"$out" | sed 's/^/    /'
start_silo recovered 1 || { summary; exit 1; }
p0=$(polls)
check "Recovered: polls grow at once (above $p0 within 10 s; not frozen behind the old snapshot)" wait_until 10 polls_above "${p0:-0}"
exactly_once "Recovered (the account started over)"
stop_silo recovered

# --- read-only, secrets -----------------------------------------------------------------------------------------------
echo "=== Read-only and secrets [t+$((SECONDS - started)) s]"
writes=$(curl -sf "$FAKE/_fake/write-attempts")
check "the fake's write log is empty (GET /_fake/write-attempts = $writes)" test "$writes" = "[]"
reads=$(json_number "$(curl -sf "$FAKE/_fake/status")" requests)
check "the silo did read the fake exchange ($reads userTrades/time requests), so the gates were not vacuous" num_gt "$reads" 0
db_password=""
[ "$mode" = postgres ] && db_password=$(pg_use_connection_string "$GRINDER_PG"; echo "${PGPASSWORD:-}")
check_secrets_absent "$API_KEY" "$API_SECRET" "$db_password" -- "$WORK"/silo-*.log "$WORK"/metrics-out-*.prom
smoke_dashboard
alert_timings_print
script_end
