#!/usr/bin/env bash
# Fire drill of the cursor alerts of runbook 26 on PostgreSQL (docs/runbooks/26_FILL_TRACKER_TRIAGE.md):
#
#   Drill A  FillCursorNonMonotonicRejected: an operator moves a stored cursor to a future trade id with SQL. The silo
#            must reject the backward write, count result="rejected_non_monotonic", log
#            FILL_CURSOR_REJECTED_NON_MONOTONIC with existing_key and new_key, and keep the stored value. Recovery as the
#            runbook says: scripts/fill_cursor.sh reset (re-reads, counts nothing twice).
#   Drill B  FillCursorSaveErrors: storage refuses writes (REVOKE on grinder_grain_state from the silo's role). Save
#            errors grow, cursor age grows (FillCursorStuck, with its 30 m threshold, stays quiet: save errors have their
#            own alert), /healthz still answers; after GRANT, saves succeed again, cursor age drops and no fill is lost.
#
#   Monitoring: a real Prometheus (rules as shipped) and Alertmanager watch both drills and an HTTP-error phase:
#            FillCursorNonMonotonicRejected, FillCursorSaveErrors (firing, then resolved 10 m after the GRANT) and
#            FillIngestHttpErrors fire and reach a webhook receiver by severity; while the drill waits for the
#            resolution, a separate healthy silo with a quiet market raises no alert for 2 minutes. About 12 minutes in
#            all, most of it that wait (GRINDER_DRILL_IDLE_FILE: created when only waiting is left, for .ci/run).
#
#   bash scripts/fire_drill_fill_alerts.sh
#   bash scripts/fire_drill_fill_alerts.sh --edit-while-trading   the edit during a poll instead (see below)
#
# The fake exchange's generator is off: the drill adds trades through its control API at chosen moments, so each
# check knows which trades exist (no race with a timer). Drill A's edit lands while no trade is pending.
# --edit-while-trading lands the same edit while a poll records new BTCUSDT trades, so that poll's save meets the edit
# (FILL_CURSOR_SAVE_CONFLICT), then resets the cursor and checks exactly-once: the poll's fills are in the fill ledger
# before its save, so none is lost and none counted twice. It guards against the loss this edit once caused, when the
# counters lived in the stored state. That mode runs without Prometheus and Alertmanager, in about a minute.
#
# Uses GRINDER_TEST_POSTGRES (an admin connection string) when set, else a throwaway PostgreSQL server (run as root it
# runs initdb/postgres as the postgres user, installing the Debian package postgresql when missing). The silo connects
# as a login role that owns its database and schema but is no superuser, so REVOKE really takes its rights away.
# Prints PASS/FAIL lines and "N passed, N failed"; exits non-zero on failure.
set -uo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
# shellcheck source=lib/prometheus.sh
source "$(dirname "$0")/lib/prometheus.sh"

repro=0
case "${1:-}" in
  "") ;;
  --edit-while-trading) repro=1 ;;
  *) echo "usage: $0 [--edit-while-trading]" >&2; exit 64 ;;
esac

script_begin fire_drill_fill_alerts
if pin_build; then pass "build pinned: the drill runs a copy of the build output ($WORK/bin)"; else fail "could not copy the build output"; summary; exit 1; fi

postgres_setup
check "jq available (installed from Debian when missing)" ensure_jq
free_port FAKE_PORT && free_port HTTP_PORT && free_port SILO_PORT && free_port GATEWAY_PORT || { fail "free ports"; summary; exit 1; }
FAKE="http://127.0.0.1:$FAKE_PORT"
URL="http://127.0.0.1:$HTTP_PORT"
API_KEY="drill-key-$(tr -dc 'a-z0-9' </dev/urandom | head -c 16)"
API_SECRET="drill-secret-$(tr -dc 'a-z0-9' </dev/urandom | head -c 24)"
FUTURE=9000000000
# The repro needs time between two polls to land the edit and new trades in the same interval.
POLL=00:00:01; [ "$repro" -eq 1 ] && POLL=00:00:04

SPAWN_DIR=$WORK spawn FAKE_PID "$WORK/fake.log" "FakeBinance__Accounts__0=$API_KEY:$API_SECRET" -- \
  dotnet "$FAKE_DLL" --urls "$FAKE" --symbols BTCUSDT,ETHUSDT --generate-every 0 --initial-trades 10 --seed 27
check "fake exchange answers on $FAKE" wait_until 30 curl -sf "$FAKE/_fake/status"

SPAWN_DIR=$WORK spawn SILO_PID "$WORK/silo.log" \
  FILL_INGEST_ENABLED=1 "GRINDER_POSTGRES=$GRINDER_PG" \
  "BINANCE_API_KEY=$API_KEY" "BINANCE_API_SECRET=$API_SECRET" \
  "Grinder__Binance__BaseUrl=$FAKE" Grinder__Symbols=BTCUSDT,ETHUSDT "Grinder__Ingest__PollInterval=$POLL" \
  Grinder__Stream__ReconcileInterval=00:00:02 \
  "Grinder__Orleans__SiloPort=$SILO_PORT" "Grinder__Orleans__GatewayPort=$GATEWAY_PORT" -- \
  dotnet "$SILO_DLL" --urls "$URL"

metric() { metric_value "$(scrape "$URL")" "$1"; }
saves() { metric "grinder_fill_cursor_save_total{source=\"reconcile\",result=\"$1\"}"; }
age() { metric 'grinder_fill_cursor_age_seconds{source="reconcile"}'; }
fills() { metric_sum "$(scrape "$URL")" grinder_fills_total 'source="reconcile"'; }
fake_valid_count() { json_number "$(curl -sf "$FAKE/_fake/valid-trade-count?apiKey=$API_KEY")" validTradeCount; }
stored() { psql_app "SELECT $1 FROM grinder_grain_state_json WHERE grain_key = 'acct-main' AND state_name = 'ingest'"; }
stored_btc_id() { stored "state->'Symbols'->'BTCUSDT'->>'LastTradeId'"; }
stored_version_above() { num_gt "$(stored version)" "$1"; }
saves_above() { num_gt "$(saves "$1")" "$2"; }
polling() { num_gt "$(metric 'grinder_fill_ingest_polls_total{source="reconcile"}')" 0 && num_gt "$(stored_btc_id)" 0; }
# Exactly once without racing the generator: the counted fills in /metrics catch up with the rows that existed when the
# check began, then the ledger holds every fake trade up to the stored read positions, nothing else and nothing twice,
# and /metrics counts the ledger's rows (stored_fills_match_fake).
stored_exact() { stored_fills_match_fake "$(stored 'state::text')" "$FAKE" "$API_KEY"; }
exactly_once() {
  local where=$1 target
  target=$(fake_valid_count)
  caught_up() { num_ge "$(fills)" "$target"; }
  check "$where: counted fills catch up with the fake's $target valid rows" wait_until 30 caught_up
  if wait_until 20 stored_exact; then pass "$where: exactly once: $MATCH_DETAIL"; else fail "$where: exactly once: $MATCH_DETAIL"; fi
}
# trade SYMBOL COUNT: COUNT new trades executed now (an account past its bootstrap window sees only recent ones).
seed=100
trade() {
  seed=$((seed + 1))
  curl -sf -X POST -H 'Content-Type: application/json' "$FAKE/_fake/trades/generate" \
    -d "{\"apiKey\":\"$API_KEY\",\"symbol\":\"$1\",\"count\":$2,\"seed\":$seed,\"startTimeMs\":$(date +%s%3N)}" >/dev/null
}
edit_btc_cursor() {
  psql_app "UPDATE grinder_grain_state
               SET payload = convert_to(jsonb_set(convert_from(payload, 'UTF8')::jsonb, '{Symbols,BTCUSDT,LastTradeId}', '$FUTURE')::text, 'UTF8')
             WHERE grain_id_ext = 'acct-main' AND grain_type = 'ingest'" >/dev/null
}

# --- Prometheus and Alertmanager (the operator's chain: scrape, rules as shipped, routing, webhook) -----------------
# A real Prometheus scrapes the silo with infra/prometheus/alerts.yml and sends to a real Alertmanager running
# infra/alertmanager/alertmanager.yml, whose receivers post to a local webhook receiver. Each alert the drills provoke
# is asserted through Prometheus' HTTP API and its notification at the receiver; the seconds each took are printed.
#
# Windows as shipped, and what follows in a Prometheus that is only minutes old:
#  - FillCursorSaveErrors resolves only when its 10 m window holds no error any more: 10 minutes after the GRANT. The
#    drill waits that out at its end (in CI, .ci/run runs the other steps meanwhile: GRINDER_DRILL_IDLE_FILE).
#  - The increase rules fall back to the smallest value inside the window while Prometheus has no data from the
#    window's start (so a fresh or restarted Prometheus does not page on old history). A counter that first appears
#    at 1 and does not grow therefore does not fire yet; drill A's single rejection is such a case. The drill checks
#    that, and then moves the cursor by hand a second time: that rejection is an increase Prometheus saw happen.
monitoring_start() {
  monitoring_tools alertmanager
  AM_CONFIG="$WORK/alertmanager.yml"
  if webhook_start WEBHOOK "$WORK/webhook.jsonl"; then pass "Alertmanager: webhook receiver (python3) on $WEBHOOK"; else fail "webhook receiver did not start"; fi
  check "Alertmanager: test config = infra/alertmanager/alertmanager.yml with the receiver host replaced by $WEBHOOK, waits shortened, amtool check-config ok" \
    am_test_config "$GRINDER_ROOT/infra/alertmanager/alertmanager.yml" "$WEBHOOK" "$AM_CONFIG"
  if am_start AM "$AM_CONFIG"; then pass "Alertmanager (prometheus-alertmanager) ready on $AM"; else fail "Alertmanager did not start"; fi
  if prom_start PROM drill --alertmanager "${AM#http://}" -- "127.0.0.1:$HTTP_PORT"; then
    pass "Prometheus ready on $PROM, scraping the silo every $PROM_SCRAPE_INTERVAL with infra/prometheus/alerts.yml"
  else
    fail "Prometheus did not start"; summary; exit 1
  fi
}

monitoring_baseline() {
  echo "=== Prometheus: targets and rules after the baseline"
  prom_check_targets "$PROM" 1 "Baseline"
  # Scrapes before the silo listened are down by nature; from here on every scrape must succeed.
  monitoring_up_since=$SECONDS
  prom_check_openmetrics "$URL" "Baseline"
  am_seen() { curl -sf "$PROM/api/v1/alertmanagers" | jq -e --arg a "$AM" '.data.activeAlertmanagers | map(.url) | any(startswith($a))'; }
  check "Prometheus: /api/v1/alertmanagers lists the drill's Alertmanager" wait_until 20 am_seen
  rules_evaluated() { curl -sf "$PROM/api/v1/rules" | jq -e '[.data.groups[].rules[] | select(.lastEvaluation | startswith("0001") | not)] | length > 0'; }
  wait_until 30 rules_evaluated
  prom_check_self "$PROM" "Baseline"
  # The first evaluation may come before Prometheus holds two samples of the polls counter (FillIngestNoPolls pending
  # for that one evaluation); the next one, 15 s later, must show nothing.
  no_alerts() { [ "$(curl -sf "$PROM/api/v1/alerts" | jq '.data.alerts | length')" = 0 ]; }
  check "Baseline: no alert pending or firing in Prometheus (/api/v1/alerts empty)" wait_until 35 no_alerts
}

monitoring_nonmonotonic() {
  echo "=== Prometheus: FillCursorNonMonotonicRejected"
  local state seen_ms
  # Judge the alert at the first evaluation after Prometheus scraped the rejection.
  rejected_seen() { num_gt "$(prom_value "$PROM" 'max(grinder_fill_cursor_save_total{result="rejected_non_monotonic"})')" 0; }
  check "Prometheus scraped drill A's rejection (grinder_fill_cursor_save_total{result=\"rejected_non_monotonic\"} > 0)" wait_until 20 rejected_seen
  seen_ms=$(now_ms)
  evaluated_since() {
    local at
    at=$(curl -sf "$PROM/api/v1/rules" | jq -r '.data.groups[].rules[] | select(.name == "FillCursorNonMonotonicRejected") | .lastEvaluation')
    num_gt "$(iso_ms "$at")" "$seen_ms"
  }
  check "Prometheus evaluated the rules after scraping the rejection" wait_until 30 evaluated_since
  state=$(prom_alert_state "$PROM" FillCursorNonMonotonicRejected)
  if [ "$state" = firing ]; then
    pass "Prometheus: FillCursorNonMonotonicRejected fired on drill A's move ($(seconds_between "$drill_a_edit_ms" "$(iso_ms "$(prom_alert_active_at "$PROM" FillCursorNonMonotonicRejected)")") s after the edit)"
    alert_timing "FillCursorNonMonotonicRejected firing: $(seconds_between "$drill_a_edit_ms" "$(iso_ms "$(prom_alert_active_at "$PROM" FillCursorNonMonotonicRejected)")") s after drill A's edit"
    return
  fi
  note "drill A's rejection is the counter's first value in a Prometheus younger than the 30 m window: not an increase yet ($state)"
  local r v edit_ms
  r=$(saves rejected_non_monotonic)
  edit_ms=$(now_ms)
  edit_btc_cursor
  rejected_again() { saves_above rejected_non_monotonic "$r"; }
  check "Drill A, second move: the silo rejects the backward write again (rejected_non_monotonic above $r)" wait_until 20 rejected_again
  prom_wait_alert "$PROM" FillCursorNonMonotonicRejected firing 60 "$edit_ms" "the second hand move of the cursor"
  GRINDER_URL=$URL GRINDER_POSTGRES="" bash "$GRINDER_ROOT/scripts/fill_cursor.sh" reset main BTCUSDT >/dev/null 2>&1
  below_future() { local id; id=$(stored_btc_id); [ -n "$id" ] && num_gt "$FUTURE" "$id"; }
  check "Drill A, second move: scripts/fill_cursor.sh reset brings the BTCUSDT cursor back below $FUTURE" wait_until 20 below_future
  r=$(saves rejected_non_monotonic)
  v=$(stored version)
  wait_until 20 stored_version_above $((v + 2)) >/dev/null
  check "Drill A, second move: no further rejections after the reset ($r)" num_eq "$(saves rejected_non_monotonic)" "$r"
}

monitoring_save_errors_fire() {
  prom_wait_alert "$PROM" FillCursorSaveErrors firing 60 "$drill_b_revoked_ms" "the REVOKE"
  check "Drill B: FillCursorStuck stays quiet while save errors have their own alert (cursor age far below 1800 s)" \
    test "$(prom_alert_state "$PROM" FillCursorStuck)" = inactive
}

monitoring_http_errors() {
  echo "=== Prometheus: FillIngestHttpErrors (the fake exchange answers HTTP 500)"
  local e0 e_ms
  e0=$(metric 'grinder_fill_ingest_errors_total{source="reconcile",reason="http"}'); e0=${e0:-0}
  e_ms=$(now_ms)
  # 2 symbols a poll, one poll a second: 40 failing requests are about 20 s of errors, more than the threshold of 3
  # even counted from the first value Prometheus scrapes.
  curl -sf -X POST -H 'Content-Type: application/json' "$FAKE/_fake/faults" \
    -d "{\"kind\":\"Status\",\"statusCode\":500,\"times\":40,\"apiKey\":\"$API_KEY\"}" >/dev/null
  http_errors_above() { num_gt "$(metric 'grinder_fill_ingest_errors_total{source="reconcile",reason="http"}')" $((e0 + 3)); }
  check "HTTP errors: grinder_fill_ingest_errors_total{source=\"reconcile\",reason=\"http\"} grows above $((e0 + 3))" wait_until 30 http_errors_above
  prom_wait_alert "$PROM" FillIngestHttpErrors firing 60 "$e_ms" "the first injected HTTP 500"
  faults_used() { [ "$(json_number "$(curl -sf "$FAKE/_fake/status")" pendingFaults)" = 0 ]; }
  check "HTTP errors: the fake served all 40 faults, then answers normally again" wait_until 60 faults_used
  local p
  p=$(metric 'grinder_fill_ingest_polls_total{source="reconcile"}')
  polls_above() { num_gt "$(metric 'grinder_fill_ingest_polls_total{source="reconcile"}')" "$1"; }
  check "HTTP errors: polling goes on after the faults (polls above $p)" wait_until 20 polls_above "$p"
}

# The notifications the Alertmanager delivered, by receiver: labels as the rule sets them, runbook_url as the rule's.
monitoring_alertmanager_firing() {
  echo "=== Alertmanager: firing notifications at the webhook receiver"
  local alert route runbook
  for alert in FillCursorSaveErrors:page FillCursorNonMonotonicRejected:warning FillIngestHttpErrors:warning; do
    route=${alert#*:}; alert=${alert%%:*}
    runbook=$(curl -sf "$PROM/api/v1/rules" | jq -r --arg n "$alert" '.data.groups[].rules[] | select(.name == $n) | .annotations.runbook_url')
    arrived() {
      webhook_alerts "$WORK/webhook.jsonl" "/$route" "$alert" firing | jq -e --arg sev "$route" --arg rb "$runbook" \
        'select(.labels.severity == $sev and .labels.source == "reconcile" and .labels.component == "fill_tracker"
                and (.labels.category | length > 0) and .annotations.runbook_url == $rb and (.annotations.summary | length > 0))' \
        >/dev/null
    }
    check "Alertmanager: $alert arrived firing at the '$route' receiver with severity=$route, source=reconcile, component, category, summary and runbook_url=$runbook" \
      wait_until 60 arrived
  done
  local misrouted
  misrouted=$(jq -r 'select(.path == "/page") | .body.alerts[]? | select(.labels.severity != "page") | .labels.alertname' "$WORK/webhook.jsonl";
              jq -r 'select(.path == "/warning") | .body.alerts[]? | select(.labels.severity != "warning") | .labels.alertname' "$WORK/webhook.jsonl")
  check "Alertmanager: no alert reached the receiver of another severity (${misrouted:-none})" test -z "$misrouted"
}

monitoring_resolution() {
  echo "=== Waiting for FillCursorSaveErrors to resolve: its 10 m window must pass without a save error [t+$((SECONDS - started)) s]"
  # From here on the drill only waits: CI runs its other steps meanwhile.
  [ -n "${GRINDER_DRILL_IDLE_FILE:-}" ] && touch "$GRINDER_DRILL_IDLE_FILE"
  # The wait is long enough for the healthy quiet-market run: a separate silo and Prometheus, nothing shared with the
  # drill's.
  quiet_market_check
  echo "=== Quiet run done; still waiting for FillCursorSaveErrors to resolve [t+$((SECONDS - started)) s]"
  local remaining=$(( (drill_b_granted_ms + 780000 - $(now_ms)) / 1000 ))
  prom_wait_alert "$PROM" FillCursorSaveErrors inactive "$remaining" "$drill_b_granted_ms" "the GRANT (window 10 m)"
  local sev_errors
  sev_errors=$(prom_value "$PROM" 'source_result:grinder_fill_cursor_save:increase10m{result="error"}')
  check "Prometheus: the recording rule's 10 m increase of save errors is back to 0 (${sev_errors:-absent})" num_eq "$sev_errors" 0
  resolved_arrived() { webhook_alerts "$WORK/webhook.jsonl" /page FillCursorSaveErrors resolved | jq -e 'select(.endsAt | startswith("0001") | not)' >/dev/null; }
  check "Alertmanager: FillCursorSaveErrors arrived resolved at the 'page' receiver (send_resolved, endsAt set)" wait_until 60 resolved_arrived
  check "Prometheus: FillCursorNonMonotonicRejected still firing (30 m window), as it should" test "$(prom_alert_state "$PROM" FillCursorNonMonotonicRejected)" = firing
  up_all_along() { num_eq "$(prom_value "$PROM" "min_over_time(up{job=\"grinder\"}[$((SECONDS - monitoring_up_since))s])")" 1; }
  check "Prometheus: the silo target was up at every scrape since the baseline ($((SECONDS - monitoring_up_since)) s)" up_all_along
  prom_check_targets "$PROM" 1 "End of the drill"
  prom_check_self "$PROM" "End of the drill"
  alert_timings_print
}

[ "$repro" -eq 0 ] && monitoring_start
if wait_until 90 polling; then
  pass "silo polls the fake on PostgreSQL (stored BTCUSDT cursor $(stored_btc_id))"
else
  fail "silo never polled"; tail -n 30 "$WORK/silo.log"; summary; exit 1
fi
trade BTCUSDT 3; trade ETHUSDT 3
exactly_once "Baseline"
[ "$repro" -eq 0 ] && monitoring_baseline

if [ "$repro" -eq 1 ]; then
  echo "=== Repro: the edit lands while a poll counts new BTCUSDT trades"
  # Right after a save, the next poll is one interval away: add trades, then edit. That poll counts the trades and its
  # save conflicts with the edit.
  v=$(stored version)
  wait_until 20 stored_version_above "$v" >/dev/null
  trade BTCUSDT 3
  edit_btc_cursor
  rejected_above() { saves_above rejected_non_monotonic 0; }
  check "Repro: the save conflicted and the backward cursor write was rejected" wait_until 20 rejected_above
  grep -oE "FILLS_INGESTED account=main symbol=BTCUSDT counted=[0-9]+.*|FILL_CURSOR_SAVE_CONFLICT.*" "$WORK/silo.log" \
    | sed -n '1,/FILL_CURSOR_SAVE_CONFLICT/p' | tail -n 2 | sed 's/^/    /'
  GRINDER_URL=$URL GRINDER_POSTGRES="" bash "$GRINDER_ROOT/scripts/fill_cursor.sh" reset main BTCUSDT >/dev/null 2>&1
  below_future() { local id; id=$(stored_btc_id); [ -n "$id" ] && num_gt "$FUTURE" "$id"; }
  check "Repro: after scripts/fill_cursor.sh reset the BTCUSDT cursor is back below $FUTURE" wait_until 20 below_future
  exactly_once "Repro: after the reset"
  script_end; exit $?
fi

# --- Drill A: non-monotonic cursor write ------------------------------------------------------------------------------
echo "=== Drill A: FillCursorNonMonotonicRejected (stored cursor moved to $FUTURE by hand)"
before=$(saves rejected_non_monotonic); before=${before:-0}
drill_a_edit_ms=$(now_ms)
# No trade is pending (the baseline caught up), so the poll whose save meets the edit counts nothing new.
edit_btc_cursor
check "Drill A: the UPDATE took (stored BTCUSDT LastTradeId reads $FUTURE)" test "$(stored_btc_id)" = "$FUTURE"
rejected_above() { saves_above rejected_non_monotonic "$before"; }
check "Drill A: grinder_fill_cursor_save_total{source=\"reconcile\",result=\"rejected_non_monotonic\"} > 0" wait_until 20 rejected_above
logged() { grep -q "FILL_CURSOR_REJECTED_NON_MONOTONIC.*existing_key=($FUTURE, [0-9]*) new_key=([0-9]*, [0-9]*)" "$WORK/silo.log"; }
check "Drill A: log has FILL_CURSOR_REJECTED_NON_MONOTONIC with existing_key=($FUTURE, ...) and new_key=(...)" wait_until 10 logged
grep -m 1 -o "FILL_CURSOR_REJECTED_NON_MONOTONIC.*" "$WORK/silo.log" | sed 's/^/    /'
v=$(stored version)
check "Drill A: the silo keeps saving after the rejection (stored version $v, then 2 more)" wait_until 20 stored_version_above $((v + 1))
check "Drill A: the stored cursor still reads $FUTURE (never written backwards)" test "$(stored_btc_id)" = "$FUTURE"
admin_psql=$(pg_use_connection_string "$PG_ADMIN"; echo "psql -h ${PGHOST:-127.0.0.1} -p ${PGPORT:-5432} -U ${PGUSER:-postgres} -d $PG_APP_DB")
out=$(GRINDER_PSQL=$admin_psql PGPASSWORD=$(pg_use_connection_string "$PG_ADMIN"; echo "${PGPASSWORD:-}") \
  bash "$GRINDER_ROOT/scripts/fill_cursor.sh" show main 2>&1)
check "Drill A: scripts/fill_cursor.sh show main (GRINDER_PSQL form) shows LastTradeId $FUTURE" grep -q "\"LastTradeId\": $FUTURE" <<<"$out"
eth=$(stored "state->'Symbols'->'ETHUSDT'->>'LastTradeId'")
trade BTCUSDT 2; trade ETHUSDT 2
eth_moves() { num_gt "$(stored "state->'Symbols'->'ETHUSDT'->>'LastTradeId'")" "$eth"; }
check "Drill A: the other symbol's cursor keeps advancing (ETHUSDT past $eth)" wait_until 20 eth_moves

# Recovery (runbook: reset the cursor; trades are re-read, none counted twice).
out=$(GRINDER_URL=$URL GRINDER_POSTGRES="" bash "$GRINDER_ROOT/scripts/fill_cursor.sh" reset main BTCUSDT 2>&1)
check "Drill A recovery: scripts/fill_cursor.sh reset main BTCUSDT answers reset=true" grep -q '"reset": *true' <<<"$out"
below_future() { local id; id=$(stored_btc_id); [ -n "$id" ] && num_gt "$FUTURE" "$id"; }
check "Drill A recovery: the stored BTCUSDT cursor is back below $FUTURE" wait_until 20 below_future
r=$(saves rejected_non_monotonic)
v=$(stored version)
wait_until 20 stored_version_above $((v + 2)) >/dev/null
check "Drill A recovery: no further rejections ($r, still $(saves rejected_non_monotonic) after 3 saves)" num_eq "$(saves rejected_non_monotonic)" "$r"
trade BTCUSDT 2
exactly_once "Drill A recovery (re-read trades not counted twice)"
monitoring_nonmonotonic

# --- Drill B: storage refuses writes ----------------------------------------------------------------------------------
echo "=== Drill B: FillCursorSaveErrors / FillCursorStuck (REVOKE ALL ON grinder_grain_state FROM $PG_APP_ROLE)"
errors_before=$(saves error); errors_before=${errors_before:-0}
drill_b_revoked_ms=$(now_ms)
psql_app "REVOKE ALL ON TABLE grinder_grain_state FROM $PG_APP_ROLE" >/dev/null
errors_above() { saves_above error "$1"; }
check "Drill B: grinder_fill_cursor_save_total{source=\"reconcile\",result=\"error\"} > 0" wait_until 20 errors_above "$errors_before"
trade BTCUSDT 2; trade ETHUSDT 2
e1=$(saves error)
check "Drill B: save errors keep growing ($e1, then more)" wait_until 10 errors_above "$e1"
check "Drill B: log has FILL_CURSOR_SAVE_ERROR" grep -q FILL_CURSOR_SAVE_ERROR "$WORK/silo.log"
a1=$(age)
age_above() { num_gt "$(age)" "$1"; }
check "Drill B: grinder_fill_cursor_age_seconds grows ($a1, then above 4 s)" wait_until 15 age_above 4
health_code=$(curl -s -o "$WORK/healthz.json" -w '%{http_code}' --max-time 10 "$URL/healthz")
check "Drill B: /healthz still answers (HTTP $health_code)" grep -q '"ingest"' "$WORK/healthz.json"
check "Drill B: /healthz names the save error (last_save_error)" grep -q '"last_save_error": *"[^"]' "$WORK/healthz.json"
polls_b=$(metric 'grinder_fill_ingest_polls_total{source="reconcile"}')
polls_above() { num_gt "$(metric 'grinder_fill_ingest_polls_total{source="reconcile"}')" "$1"; }
check "Drill B: polling goes on meanwhile (polls above $polls_b)" wait_until 10 polls_above "$polls_b"
monitoring_save_errors_fire

psql_app "GRANT ALL ON TABLE grinder_grain_state TO $PG_APP_ROLE" >/dev/null
drill_b_granted_ms=$(now_ms)
ok=$(saves ok)
check "Drill B recovery (GRANT ALL): result=\"ok\" saves resume (above $ok)" wait_until 20 saves_above ok "$ok"
age_low() { local a; a=$(age); [ -n "$a" ] && num_gt 3 "$a"; }
check "Drill B recovery: cursor age drops below 3 s" wait_until 15 age_low
exactly_once "Drill B recovery (no fill lost)"

monitoring_http_errors
monitoring_alertmanager_firing
monitoring_resolution

stop_process "$SILO_PID" 45
check "silo stopped on SIGTERM with exit code 0" test "$STOPPED_CODE" = 0
writes=$(curl -sf "$FAKE/_fake/write-attempts")
check "the fake's write log is empty ($writes)" test "$writes" = "[]"
db_password=$(pg_use_connection_string "$GRINDER_PG"; echo "$PGPASSWORD")
check_secrets_absent "$API_KEY" "$API_SECRET" "$db_password" -- "$WORK/silo.log" "$WORK/healthz.json"
script_end
