#!/usr/bin/env bash
# Fire drill of the cursor alerts of runbook 26 on PostgreSQL (docs/runbooks/26_FILL_TRACKER_TRIAGE.md):
#
#   Drill A  FillCursorNonMonotonicRejected: an operator moves a stored cursor to a future trade id with SQL. The silo
#            must reject the backward write, count result="rejected_non_monotonic", log
#            FILL_CURSOR_REJECTED_NON_MONOTONIC with existing_key and new_key, and keep the stored value. Recovery as the
#            runbook says: scripts/fill_cursor.sh reset (re-reads, counts nothing twice).
#   Drill B  FillCursorSaveErrors / FillCursorStuck: storage refuses writes (REVOKE on grinder_grain_state from the
#            silo's role). Save errors grow, cursor age grows, /healthz still answers; after GRANT, saves succeed again,
#            cursor age drops and no fill is lost.
#
#   bash scripts/fire_drill_fill_alerts.sh
#   bash scripts/fire_drill_fill_alerts.sh --edit-while-trading   reproduces a lost-fill bug instead (see below)
#
# The fake exchange's generator is off: the drill adds trades through its control API at chosen moments, so each
# check knows which trades exist (no race with a timer). Drill A's edit lands while no trade is pending.
# --edit-while-trading lands the same edit while a poll is counting new BTCUSDT trades, then resets the cursor and
# checks exactly-once: fills counted in the poll whose save hit the edit are lost (FillIngestGrain adopts the stored
# counters but keeps the in-memory counted high-water mark of the symbol whose stored cursor is ahead).
#
# Uses GRINDER_TEST_POSTGRES (an admin connection string) when set, else a throwaway PostgreSQL server (run as root it
# runs initdb/postgres as the postgres user, installing the Debian package postgresql when missing). The silo connects
# as a login role that owns its database and schema but is no superuser, so REVOKE really takes its rights away.
# Prints PASS/FAIL lines and "N passed, N failed"; exits non-zero on failure.
set -uo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"

repro=0
case "${1:-}" in
  "") ;;
  --edit-while-trading) repro=1 ;;
  *) echo "usage: $0 [--edit-while-trading]" >&2; exit 64 ;;
esac

script_begin fire_drill_fill_alerts

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
# Exactly once without racing the generator: the stored counters equal the fake's rows up to the stored cursors, and the
# counted fills in /metrics catch up with the rows that existed when the check began.
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

if wait_until 90 polling; then
  pass "silo polls the fake on PostgreSQL (stored BTCUSDT cursor $(stored_btc_id))"
else
  fail "silo never polled"; tail -n 30 "$WORK/silo.log"; summary; exit 1
fi
trade BTCUSDT 3; trade ETHUSDT 3
exactly_once "Baseline"

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

# --- Drill B: storage refuses writes ----------------------------------------------------------------------------------
echo "=== Drill B: FillCursorSaveErrors / FillCursorStuck (REVOKE ALL ON grinder_grain_state FROM $PG_APP_ROLE)"
errors_before=$(saves error); errors_before=${errors_before:-0}
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

psql_app "GRANT ALL ON TABLE grinder_grain_state TO $PG_APP_ROLE" >/dev/null
ok=$(saves ok)
check "Drill B recovery (GRANT ALL): result=\"ok\" saves resume (above $ok)" wait_until 20 saves_above ok "$ok"
age_low() { local a; a=$(age); [ -n "$a" ] && num_gt 3 "$a"; }
check "Drill B recovery: cursor age drops below 3 s" wait_until 15 age_low
exactly_once "Drill B recovery (no fill lost)"

stop_process "$SILO_PID" 45
check "silo stopped on SIGTERM with exit code 0" test "$STOPPED_CODE" = 0
writes=$(curl -sf "$FAKE/_fake/write-attempts")
check "the fake's write log is empty ($writes)" test "$writes" = "[]"
db_password=$(pg_use_connection_string "$GRINDER_PG"; echo "$PGPASSWORD")
check_secrets_absent "$API_KEY" "$API_SECRET" "$db_password" -- "$WORK/silo.log" "$WORK/healthz.json"
script_end
