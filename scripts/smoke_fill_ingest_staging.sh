#!/usr/bin/env bash
# Staging dry-run of fill ingest (runbook 26, "Companion scripts"): real Binance reads and cursor persistence.
#
#   BINANCE_API_KEY=... BINANCE_API_SECRET=... bash scripts/smoke_fill_ingest_staging.sh [--base-url URL] [--symbols S,S]
#
# --base-url defaults to Grinder__Binance__BaseUrl, else the USD-M futures testnet (demo trading) REST base
# https://demo-fapi.binance.com (Binance's general-info page names it for testnet; https://testnet.binancefuture.com is
# the older host of the same backend). --symbols defaults to Grinder__Symbols, else BTCUSDT.
#
# Always (no keys needed): configuration validation (invalid settings stop the silo with exit code 2 and one line naming
# the setting, never echoing a secret) and Gate 0 against a local silo.
# With keys: the base URL answers, Gate 1 (polls growing, enabled 1, no errors, cursor saved and advancing), Gate 2
# (SIGTERM restart: cursor_load ok, polls continue, nothing re-counted), the --metrics-out artifact (safety invariant 5),
# forbidden labels, and the keys absent from logs, metrics and health. Without keys those print SKIP.
# The keys reach the silo through its environment only; this script never prints them.
# Prints PASS/FAIL/SKIP lines and "N passed, N failed"; exits non-zero on failure.
set -uo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"

BASE_URL=${Grinder__Binance__BaseUrl:-https://demo-fapi.binance.com}
SYMBOLS=${Grinder__Symbols:-BTCUSDT}
while [ $# -gt 0 ]; do
  case $1 in
    --base-url) BASE_URL=${2:?--base-url needs a URL}; shift 2 ;;
    --symbols) SYMBOLS=${2:?--symbols needs a list}; shift 2 ;;
    *) echo "usage: $0 [--base-url URL] [--symbols BTCUSDT,ETHUSDT]" >&2; exit 64 ;;
  esac
done
BASE_URL=${BASE_URL%/}
API_KEY=${BINANCE_API_KEY:-}
API_SECRET=${BINANCE_API_SECRET:-}

script_begin smoke_fill_ingest_staging "against $BASE_URL, symbols $SYMBOLS"
if [ -n "$API_KEY" ] && [ -n "$API_SECRET" ]; then keys=1; echo "keys: BINANCE_API_KEY and BINANCE_API_SECRET set"; else keys=0; echo "keys: not set (real-read gates are skipped)"; fi
free_port HTTP_PORT && free_port SILO_PORT && free_port GATEWAY_PORT || { fail "free ports"; summary; exit 1; }
URL="http://127.0.0.1:$HTTP_PORT"
PORTS=("Grinder__Orleans__SiloPort=$SILO_PORT" "Grinder__Orleans__GatewayPort=$GATEWAY_PORT")

# --- configuration validation -----------------------------------------------------------------------------------------
echo "=== Configuration validation (README "Configuration": exit code 2, one line naming the setting)"
# expect_invalid NAME EXPECTED_TEXT [SECRET] -- NAME=VALUE...: the silo must stop at start with exit code 2 and an
# "Invalid configuration:" line containing EXPECTED_TEXT (and not SECRET).
config_case=0
expect_invalid() {
  local name=$1 expected=$2 secret=$3 pid; shift 4
  config_case=$((config_case + 1))
  local log="$WORK/config-$config_case.log"
  SPAWN_DIR=$WORK spawn pid "$log" "GRINDER_DATA_DIR=$WORK/config-data" "${PORTS[@]}" "$@" -- dotnet "$SILO_DLL" --urls "$URL"
  # stderr off while the child ends: bash would announce a child killed by a signal (an abort) with its command line.
  if ! { wait_until 60 bash -c "! kill -0 $pid"; } 2>/dev/null; then
    stop_process "$pid" 5 2>/dev/null
    fail "config: $name: the silo kept running"
    return
  fi
  stop_process "$pid" 1 2>/dev/null
  local code=$STOPPED_CODE line
  line=$(grep -m 1 '^Invalid configuration: ' "$log")
  if [ "$code" = 2 ] && [[ $line == *"$expected"* ]] && { [ -z "$secret" ] || ! grep -qF "$secret" "$log"; }; then
    pass "config: $name -> exit 2, '$line'"
  else
    fail "config: $name -> exit $code, expected 'Invalid configuration: ...$expected...'${secret:+ without the secret}"
    grep -v "^ \{6\}at \|^   at " "$log" | grep -m 3 -iE 'invalid|exception' | sed 's/^/    /'
  fi
}
expect_invalid "Grinder__Ingest__PollInterval=00:00:00" "Grinder:Ingest:PollInterval" "" -- \
  FILL_INGEST_ENABLED=1 BINANCE_API_KEY=k BINANCE_API_SECRET=s Grinder__Ingest__PollInterval=00:00:00
expect_invalid "Grinder__Ingest__PollInterval=5s (not a TimeSpan)" "PollInterval" "" -- \
  FILL_INGEST_ENABLED=1 BINANCE_API_KEY=k BINANCE_API_SECRET=s Grinder__Ingest__PollInterval=5s
expect_invalid "Grinder__Binance__BaseUrl='not a url'" "Grinder:Binance:BaseUrl" "" -- \
  FILL_INGEST_ENABLED=1 BINANCE_API_KEY=k BINANCE_API_SECRET=s "Grinder__Binance__BaseUrl=not a url"
probe_secret="staging-probe-secret-$(tr -dc 'a-z0-9' </dev/urandom | head -c 12)"
expect_invalid "BINANCE_API_SECRET without BINANCE_API_KEY (secret not echoed)" "BINANCE_API_KEY" "$probe_secret" -- \
  FILL_INGEST_ENABLED=1 "BINANCE_API_SECRET=$probe_secret"
expect_invalid "Grinder__Symbols empty" "Grinder:Symbols" "" -- \
  FILL_INGEST_ENABLED=1 BINANCE_API_KEY=k BINANCE_API_SECRET=s "Grinder__Symbols= , "
expect_invalid "unknown account setting Grinder__Accounts__0__ApiSceret" "Grinder:Accounts:0:ApiSceret" "$probe_secret" -- \
  FILL_INGEST_ENABLED=1 Grinder__Accounts__0__Id=sub Grinder__Accounts__0__ApiKey=k "Grinder__Accounts__0__ApiSceret=$probe_secret"
check "config: this run's base URL $BASE_URL is an absolute http(s) URL" grep -qE '^https?://[^/ ]+(/[^ ]*)?$' <<<"$BASE_URL"
[[ $BASE_URL == https://* ]] || note "base URL is plain http: fine for a local fake exchange, never for Binance"

# --- Gate 0 against a local silo --------------------------------------------------------------------------------------
echo "=== Gate 0: baseline against a local silo (FILL_INGEST_ENABLED unset)"
SPAWN_DIR=$WORK spawn SILO_PID "$WORK/silo-gate0.log" "GRINDER_DATA_DIR=$WORK/gate0-data" "${PORTS[@]}" -- \
  dotnet "$SILO_DLL" --urls "$URL" --metrics-out "$WORK/metrics-out-gate0.prom"
if wait_until 90 curl -sf "$URL/metrics"; then
  pass "Gate 0: local silo serves $URL/metrics"
  check_gate0_placeholders "$URL"
  check "Gate 0: /healthz answers" curl -sf "$URL/healthz"
  stop_process "$SILO_PID" 45
  check "Gate 0: silo stopped on SIGTERM with exit code 0" test "$STOPPED_CODE" = 0
  check_metrics_out "$WORK/metrics-out-gate0.prom" "Gate 0"
else
  fail "Gate 0: local silo did not serve /metrics"; tail -n 20 "$WORK/silo-gate0.log"
fi

# --- real reads -------------------------------------------------------------------------------------------------------
REAL_GATES=(
  "reachability: $BASE_URL/fapi/v1/time answers"
  "Gate 1: polls growing, enabled 1, no error lines"
  "Gate 1: cursor saved (cursor_save ok > 0) and advancing (stored state file rewritten)"
  "Gate 1: forbidden labels and keys absent from /metrics and /healthz"
  "Gate 2: SIGTERM restart: cursor_load ok > 0, polls continue"
  "Gate 2: no re-count after restart"
  "--metrics-out artifacts (safety invariant 5)"
  "keys absent from silo logs and --metrics-out files"
)
if [ "$keys" -eq 0 ]; then
  for gate in "${REAL_GATES[@]}"; do skip "$gate (BINANCE_API_KEY/BINANCE_API_SECRET not set)"; done
  script_end; exit $?
fi

echo "=== Real reads against $BASE_URL"
server_time=$(json_number "$(curl -sf --max-time 15 "$BASE_URL/fapi/v1/time")" serverTime)
if [ -n "$server_time" ]; then
  pass "reachability: $BASE_URL/fapi/v1/time answers (serverTime $server_time)"
else
  fail "reachability: $BASE_URL/fapi/v1/time does not answer"; summary; exit 1
fi

DATA="$WORK/data"
STATE="$DATA/fills/ingest/fillingest%2Facct-main.json"
start_real() {
  local label=$1
  SPAWN_DIR=$WORK spawn SILO_PID "$WORK/silo-$label.log" FILL_INGEST_ENABLED=1 "GRINDER_DATA_DIR=$DATA" "${PORTS[@]}" \
    "BINANCE_API_KEY=$API_KEY" "BINANCE_API_SECRET=$API_SECRET" "Grinder__Binance__BaseUrl=$BASE_URL" \
    "Grinder__Symbols=$SYMBOLS" Grinder__Ingest__PollInterval=00:00:02 -- \
    dotnet "$SILO_DLL" --urls "$URL" --metrics-out "$WORK/metrics-out-$label.prom"
  if wait_until 90 curl -sf "$URL/metrics"; then
    pass "$label: silo with FILL_INGEST_ENABLED=1 serves $URL/metrics"
  else
    fail "$label: silo did not start"; grep -m 5 -iE 'invalid|exception|error' "$WORK/silo-$label.log" | sed 's/^/    /'
    summary; exit 1
  fi
}
metric() { metric_value "$(scrape "$URL")" "$1"; }
polls() { metric 'grinder_fill_ingest_polls_total{source="reconcile"}'; }
polls_above() { num_gt "$(polls)" "$1"; }
fills() { metric_sum "$(scrape "$URL")" grinder_fills_total 'source="reconcile"'; }
save_count() { json_number "$(tr -d '\n' <"$STATE" 2>/dev/null | sed 's/.*"SaveCount"/"SaveCount"/')" SaveCount; }
save_count_above() { num_gt "$(save_count)" "$1"; }
# Account detail from /healthz (the per-account error reason; safe to show: no secrets there).
health_errors() { curl -s "$URL/healthz" | grep -oE '"(last_error_reason|load_error|last_save_error)": *"[^"]*"' | sort -u | sed 's/^/    /'; }

start_real gate1
if wait_until 60 polls_above 0; then
  p1=$(polls)
  check "Gate 1: polls growing (grep grinder_fill_ingest_polls_total: $p1, then more)" wait_until 20 polls_above "$p1"
else
  fail "Gate 1: no completed poll within 60 s"; health_errors
fi
expect_series "Gate 1: grep grinder_fill_ingest_enabled shows 1" "$(curl -sf "$URL/metrics" | grep grinder_fill_ingest_enabled)" \
  'grinder_fill_ingest_enabled{source="reconcile"} 1'
out=$(curl -sf "$URL/metrics" | grep grinder_fill_ingest_errors_total)
expect_series "Gate 1: grep grinder_fill_ingest_errors_total shows no error lines" "$out" \
  'grinder_fill_ingest_errors_total{source="none",reason="none"} 0'
series_lines <<<"$out" | grep -q 'reason="[a-z]*"} [1-9]' && health_errors
check "Gate 1: grep grinder_fill_cursor_save_total shows result=\"ok\" > 0" \
  num_gt "$(metric 'grinder_fill_cursor_save_total{source="reconcile",result="ok"}')" 0
check "Gate 1: cursor state file exists (ls -la $STATE)" test -s "$STATE"
s1=$(save_count)
check "Gate 1: the stored cursor advances (SaveCount $s1, then higher: saved on every poll)" wait_until 20 save_count_above "${s1:-0}"
cursors=$(tr -d '\n ' <"$STATE" | grep -oE '"[A-Z0-9]+":\{"LastTradeId":(null|[0-9]+)' | sed 's/:{"LastTradeId":/ last_trade_id=/; s/"//g' | paste -sd ' ')
note "stored cursors: ${cursors:-none}; fills counted: $(fills) (0 means no trades in the lookback: a quiet account)"
check_forbidden_labels "Gate 1" "$URL" "$API_KEY" "$API_SECRET"
stop_process "$SILO_PID" 45
check "Gate 1: silo stopped on SIGTERM with exit code 0" test "$STOPPED_CODE" = 0
check_metrics_out "$WORK/metrics-out-gate1.prom" "Gate 1"
# The stored state after the stop is final: its fill counts and polls are what the restart must continue from.
stored_sum() { tr -d '\n ' <"$STATE" | grep -oE "\"$1\":[0-9]+" | sed 's/.*://' | awk '{ s += $1 } END { print s + 0 }'; }
fills_at_stop=$(stored_sum Count)
polls_at_stop=$(stored_sum Polls)

echo "=== Gate 2: restart safety"
start_real gate2
load_ok() { num_gt "$(metric 'grinder_fill_cursor_load_total{source="reconcile",result="ok"}')" 0; }
check "Gate 2: grep grinder_fill_cursor_load_total shows result=\"ok\" > 0" wait_until 30 load_ok
check "Gate 2: polls continue (above $polls_at_stop at the stop)" wait_until 30 polls_above $((${polls_at_stop:-0} + 2))
# Nothing re-counted: what the restarted silo added equals what it logged as newly counted, with no duplicates read.
after=$(fills)
counted=$(grep -o 'FILLS_INGESTED .*counted=[0-9]*' "$WORK/silo-gate2.log" | sed 's/.*counted=//' | awk '{ s += $1 } END { print s + 0 }')
duplicates=$(grep -o 'FILLS_INGESTED .*duplicates=[0-9]*' "$WORK/silo-gate2.log" | sed 's/.*duplicates=//' | awk '{ s += $1 } END { print s + 0 }')
check "Gate 2: no re-count: fills $fills_at_stop at stop + $counted newly counted = $after now; $duplicates duplicate rows re-read" \
  bash -c '[ "$1" -le "$2" ] && awk -v a="$1" -v c="$3" -v b="$2" "BEGIN { exit !(a + c >= b) }" && [ "$4" -eq 0 ]' _ \
  "${fills_at_stop%.*}" "${after%.*}" "$counted" "$duplicates"
check_forbidden_labels "Gate 2" "$URL" "$API_KEY" "$API_SECRET"
stop_process "$SILO_PID" 45
check "Gate 2: silo stopped on SIGTERM with exit code 0" test "$STOPPED_CODE" = 0
check_metrics_out "$WORK/metrics-out-gate2.prom" "Gate 2"
check_secrets_absent "$API_KEY" "$API_SECRET" -- "$WORK"/silo-*.log "$WORK"/metrics-out-*.prom
script_end
