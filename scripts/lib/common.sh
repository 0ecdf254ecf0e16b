# Shared helpers of the smoke, drill and operations scripts. Source it; it defines functions and a few globals only.
#
#   PASS/FAIL bookkeeping  pass, fail, skip, check, summary
#   processes              spawn (background child, logged, stopped by the EXIT trap), stop_process
#   waiting                wait_until TIMEOUT DESCRIPTION COMMAND... (polls every 0.25 s; no blind sleeps)
#   ports                  free_port VAR (a loopback port nobody listens on, outside the ephemeral range)
#   metrics                scrape, metric_value, metric_sum, series_lines, num_gt, num_ge, num_eq
#   PostgreSQL             pg_use_connection_string (Npgsql string -> PG* variables for psql), pg_throwaway_start/stop
#
# Secrets: nothing here echoes an environment value; psql gets its password through PGPASSWORD, curl its bearer
# token through a config on stdin, never through the command line (visible in ps).

GRINDER_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

passed=0
failed=0
LIB_PIDS=()
LIB_PORTS=" "
LIB_CLEANUPS=()

pass() { echo "PASS $*"; passed=$((passed + 1)); }
fail() { echo "FAIL $*"; failed=$((failed + 1)); }
skip() { echo "SKIP $*"; }
note() { echo "  .. $*"; }

# check NAME COMMAND...: PASS when COMMAND succeeds. COMMAND's output is shown indented only on failure.
check() {
  local name=$1; shift
  local output
  if output=$("$@" 2>&1); then
    pass "$name"
  else
    fail "$name"
    [ -n "$output" ] && sed 's/^/    /' <<<"$output" | head -n 40
  fi
}

# Prints the closing line CI sums up and returns non-zero when anything failed.
summary() {
  echo "${passed} passed, ${failed} failed"
  [ "$failed" -eq 0 ]
}

# Runs at exit (the scripts install it with `trap lib_cleanup EXIT`): stops every spawned process, then runs the
# registered cleanup commands in reverse order.
lib_cleanup() {
  local pid i
  for pid in "${LIB_PIDS[@]}"; do
    kill -0 "$pid" 2>/dev/null && kill -TERM "$pid" 2>/dev/null
  done
  for pid in "${LIB_PIDS[@]}"; do
    stop_process "$pid" 15
  done
  for ((i = ${#LIB_CLEANUPS[@]} - 1; i >= 0; i--)); do
    eval "${LIB_CLEANUPS[$i]}" >/dev/null 2>&1
  done
}

on_exit() { LIB_CLEANUPS+=("$*"); }

# Variables a caller's shell may hold that would change a child's configuration: removed for children.
inherited_config_names() {
  local name
  for name in $(compgen -e); do
    case $name in
      GRINDER_*|FILL_*|BINANCE_*|Grinder__*|ConnectionStrings__*|ASPNETCORE_URLS|HTTP_PORTS|FakeBinance__*) echo "$name" ;;
    esac
  done
}

# spawn VAR LOGFILE [NAME=VALUE...] -- COMMAND...: starts COMMAND in the background with the caller's configuration
# variables removed and the given ones set, output to LOGFILE, and stores its pid in VAR. The variables are exported
# inside the child's shell, never passed on a command line (ps shows command lines; some values are secrets).
# SPAWN_DIR: the child's working directory (the silo's default data directory is relative to it).
# The EXIT trap stops the child if it still runs.
spawn() {
  local _spawn_var=$1 _spawn_log=$2; shift 2
  local -a _spawn_env=()
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do _spawn_env+=("$1"); shift; done
  shift
  (
    cd "${SPAWN_DIR:-.}" || exit 1
    for name in $(inherited_config_names); do unset "$name"; done
    export DOTNET_ENVIRONMENT=Production ASPNETCORE_ENVIRONMENT=Production
    for assignment in "${_spawn_env[@]}"; do export "$assignment"; done
    exec "$@"
  ) >"$_spawn_log" 2>&1 &
  LIB_PIDS+=("$!")
  printf -v "$_spawn_var" '%s' "$!"
}

# stop_process PID [TIMEOUT_SECONDS]: SIGTERM (as docker stop / systemd send), wait, SIGKILL after the timeout.
# Sets STOPPED_CODE to the exit code (137 when it had to be killed). Call it in the shell that spawned PID (not in
# $(...)): only the parent can collect a child's exit code.
stop_process() {
  local pid=$1 timeout=${2:-30} waited=0 code
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null
    while kill -0 "$pid" 2>/dev/null && [ "$waited" -lt $((timeout * 4)) ]; do
      sleep 0.25; waited=$((waited + 1))
    done
    if kill -0 "$pid" 2>/dev/null; then
      kill -KILL "$pid" 2>/dev/null
    fi
  fi
  { wait "$pid"; } 2>/dev/null
  code=$?
  STOPPED_CODE=$code
}

# wait_until TIMEOUT_SECONDS COMMAND...: polls COMMAND every 0.25 s until it succeeds; fails after the timeout.
wait_until() {
  local timeout=$1; shift
  local deadline=$((SECONDS + timeout))
  while true; do
    "$@" >/dev/null 2>&1 && return 0
    [ "$SECONDS" -ge "$deadline" ] && return 1
    sleep 0.25
  done
}

# free_port VAR: a loopback TCP port in 20000-32000 (below Linux's ephemeral range, so no outgoing connection holds
# it) that no socket uses now and that this script has not handed out before.
free_port() {
  local var=$1 used hex p attempt
  used=" "
  for hex in $(awk 'NR > 1 { split($2, a, ":"); print a[2] }' /proc/net/tcp /proc/net/tcp6 2>/dev/null); do
    used+="$((16#$hex)) "
  done
  for attempt in $(seq 1 500); do
    p=$((20000 + RANDOM % 12000))
    if [[ $used != *" $p "* && $LIB_PORTS != *" $p "* ]]; then
      LIB_PORTS+="$p "
      printf -v "$var" '%s' "$p"
      return 0
    fi
  done
  echo "no free port found" >&2
  return 1
}

# expect_series NAME COMMAND_OUTPUT EXPECTED_LINES: the series lines (no # lines) equal EXPECTED_LINES, in any order.
expect_series() {
  local name=$1 got want
  got=$(series_lines <<<"$2" | sort)
  want=$(sort <<<"$3")
  if [ "$got" = "$want" ]; then
    pass "$name"
  else
    fail "$name"
    echo "    expected:"; sed 's/^/      /' <<<"$want"
    echo "    got:"; sed 's/^/      /' <<<"$got"
  fi
}

# The runbook's Gate 0 output (FILL_INGEST_ENABLED unset, nothing stored yet), checked with its own commands.
check_gate0_placeholders() {
  local url=$1
  expect_series "Gate 0: curl -sf $url/metrics | grep grinder_fill_ingest shows exactly the placeholders" \
    "$(curl -sf "$url/metrics" | grep grinder_fill_ingest)" \
    'grinder_fill_ingest_enabled{source="reconcile"} 0
grinder_fill_ingest_polls_total{source="none"} 0
grinder_fill_ingest_errors_total{source="none",reason="none"} 0'
  expect_series "Gate 0: grep grinder_fills_total shows the placeholder at zero" \
    "$(curl -sf "$url/metrics" | grep grinder_fills_total)" \
    'grinder_fills_total{source="none",side="none",liquidity="none"} 0'
  expect_series "Gate 0: notional and fees placeholders at zero (What good looks like, OFF)" \
    "$(curl -sf "$url/metrics" | grep -E 'grinder_fill_(notional|fees)_total')" \
    'grinder_fill_notional_total{source="none",side="none",liquidity="none"} 0
grinder_fill_fees_total{source="none",side="none",liquidity="none"} 0'
}

# Runbook safety invariants 1 and 5: every --metrics-out file has grinder_fill_* lines beside the reconcile metrics.
check_metrics_out() {
  local file=$1 label=$2
  if [ -s "$file" ] && grep -q '^grinder_fill_' "$file" && grep -q '^grinder_reconcile_runs_total' "$file"; then
    pass "--metrics-out ($label): $(grep -c '^grinder_fill' "$file") grinder_fill_* lines and grinder_reconcile_runs_total"
  else
    fail "--metrics-out ($label): $file missing, or without grinder_fill_* / grinder_reconcile_runs_total lines"
  fi
}

# check_forbidden_labels WHERE URL SECRET...: runbook evidence command 4, widened to every label the design forbids,
# account ids, and the given secret strings in /metrics and /healthz. Never prints a secret.
check_forbidden_labels() {
  local where=$1 url=$2 out; shift 2
  out=$(curl -sf "$url/metrics" | grep grinder_fill | grep -E 'symbol=|order_id=|client_id=' || echo "CLEAN: no forbidden labels")
  if [ "$out" = "CLEAN: no forbidden labels" ]; then pass "$where: runbook evidence 4 prints 'CLEAN: no forbidden labels'"; else fail "$where: forbidden labels: $out"; fi
  out=$(curl -sf "$url/metrics" | grep grinder_ | grep -v '^#' | grep -E 'trade_id=|key=|idempotency_key=|account|"main"|acct-' || true)
  if [ -z "$out" ]; then pass "$where: no trade_id=, key=, idempotency_key= or account id in any grinder_ series"; else fail "$where: $out"; fi
  local -a patterns=()
  local secret
  for secret in "$@"; do [ -n "$secret" ] && patterns+=(-e "$secret"); done
  if [ "${#patterns[@]}" -gt 0 ] && curl -sf "$url/metrics" "$url/healthz" | grep -qF "${patterns[@]}"; then
    fail "$where: the API key or secret appears in /metrics or /healthz"
  else
    pass "$where: API key and secret absent from /metrics and /healthz"
  fi
}

# script_begin NAME: the common start of the scripts: a work directory (kept when something failed, removed otherwise),
# the EXIT trap, and the build. Sets WORK and started.
script_begin() {
  SCRIPT_NAME=$1
  WORK=$(mktemp -d "/tmp/grinder-$SCRIPT_NAME-XXXXXX")
  on_exit 'if [ "$failed" -eq 0 ]; then rm -rf "$WORK"; fi'
  trap lib_cleanup EXIT
  started=$SECONDS
  echo "$SCRIPT_NAME${2:+ ($2)}, work directory $WORK"
  if build_release "$WORK/build.log"; then
    pass "build: dotnet build -c Release Grinder.Silo (with Grinder.FakeBinance)"
  else
    fail "build: dotnet build -c Release (see above)"
    summary; exit 1
  fi
}

# script_end: elapsed time, where the logs are when something failed, and the closing line; returns its status.
script_end() {
  echo "$SCRIPT_NAME took $((SECONDS - started)) s"
  [ "$failed" -gt 0 ] && echo "logs kept in $WORK"
  summary
}

# check_secrets_absent SECRET... -- FILE...: none of the secrets appears in any of the files (never printing them). A
# file that is missing or empty, no file at all, or no secret fails: a check that read nothing proves nothing.
check_secrets_absent() {
  local -a patterns=()
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do [ -n "$1" ] && patterns+=(-e "$1"); shift; done
  shift
  local file unreadable=()
  for file in "$@"; do [ -s "$file" ] || unreadable+=("$file"); done
  if [ ${#patterns[@]} -eq 0 ] || [ $# -eq 0 ] || [ ${#unreadable[@]} -gt 0 ]; then
    fail "secrets check incomplete: $(( ${#patterns[@]} / 2 )) secret(s), $# file(s), missing or empty: ${unreadable[*]:-none}"
    return
  fi
  grep -qF "${patterns[@]}" "$@"
  case $? in
    0) fail "a secret (API key, API secret or database password) appears in a silo log, /healthz or a --metrics-out file" ;;
    1) pass "secrets absent from $# file(s): silo logs, /healthz, --metrics-out" ;;
    *) fail "secrets check: grep could not read the files" ;;
  esac
}

# Metrics helpers. Exposition lines look like `name{labels} value`; series_lines drops the # HELP/# TYPE lines.
scrape() { curl -sf --max-time 10 "$1/metrics"; }
series_lines() { grep -v '^#' || true; }

# metric_value TEXT SERIES: the value of exactly SERIES (e.g. 'grinder_fill_ingest_enabled{source="reconcile"}'),
# empty when absent.
metric_value() { awk -v k="$2" '$1 == k { print $2; exit }' <<<"$1"; }

# metric_sum TEXT FAMILY [LABEL_FRAGMENT]: the sum over FAMILY's series containing LABEL_FRAGMENT (0 when none).
metric_sum() {
  awk -v f="$2{" -v frag="${3:-}" 'index($1, f) == 1 && index($1, frag) > 0 { s += $2 } END { printf "%.10g\n", s + 0 }' <<<"$1"
}

num_gt() { awk -v a="${1:-}" -v b="${2:-}" 'BEGIN { exit !(a != "" && b != "" && a + 0 > b + 0) }'; }
num_ge() { awk -v a="${1:-}" -v b="${2:-}" 'BEGIN { exit !(a != "" && b != "" && a + 0 >= b + 0) }'; }
num_eq() { awk -v a="${1:-}" -v b="${2:-}" 'BEGIN { exit !(a != "" && b != "" && a + 0 == b + 0) }'; }

# json_number TEXT FIELD: a top-level numeric field of a small JSON object (no jq on a fresh machine).
json_number() { sed -n "s/.*\"$2\"[[:space:]]*:[[:space:]]*\(-\{0,1\}[0-9][0-9.eE+-]*\).*/\1/p" <<<"$1" | head -n 1; }

# Percent-encodes like .NET's Uri.EscapeDataString (RFC 3986 unreserved characters stay), as the local-mode file
# storage names its files.
uri_escape() {
  local s=$1 out="" c i
  for ((i = 0; i < ${#s}; i++)); do
    c=${s:i:1}
    case $c in
      [A-Za-z0-9.~_-]) out+=$c ;;
      *) out+=$(printf '%%%02X' "'$c") ;;
    esac
  done
  printf '%s' "$out"
}

# Installs Debian's jq when missing (root only); the exactly-once checks read grain state JSON with it.
ensure_jq() {
  command -v jq >/dev/null && return 0
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
    echo "jq not found: apt-get install -y jq" >&2
    return 1
  fi
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends jq) >/dev/null 2>&1
  command -v jq >/dev/null
}

# stored_fills_match_fake STATE_JSON FAKE_URL API_KEY [SILO_URL] [ACCOUNT]: exactly-once check without racing the fake's
# generator, against the fill ledger. The read position is stored only after the ledger holds every row it passed, and
# trade ids only grow, so: every fake trade with an id up to the stored position of its symbol is in the ledger
# (GET /fills as CSV), every ledger row is a fake trade, no (symbol, id, side) twice, and the counters of /metrics equal
# the ledger's row count. SILO_URL defaults to $URL, ACCOUNT to main. Sets MATCH_DETAIL to the numbers.
stored_fills_match_fake() {
  local state=$1 fake=$2 key=$3 silo=${4:-$URL} account=${5:-main} symbol id ledger fakekeys expected=0 rows counted
  MATCH_DETAIL="no readable stored state or ledger"
  ledger=$(curl -sf "$silo/fills?account=$(uri_escape "$account")&format=csv" | tail -n +2 | awk -F, '{print $3" "$1" "$4}' | sort) || return 1
  fakekeys=$(curl -sf "$fake/_fake/trade-keys?apiKey=$(uri_escape "$key")" | jq -r '.[] | "\(.symbol) \(.id) \(.side)"' | sort) || return 1
  rows=$(grep -c . <<<"$ledger")
  if [ "$(uniq <<<"$ledger" | grep -c .)" -ne "$rows" ]; then MATCH_DETAIL="ledger holds a fill twice"; return 1; fi
  if [ -n "$(comm -23 <(echo "$ledger") <(echo "$fakekeys") | grep .)" ]; then MATCH_DETAIL="ledger rows that are not fake trades: $(comm -23 <(echo "$ledger") <(echo "$fakekeys") | head -3 | tr '\n' ';')"; return 1; fi
  while read -r symbol id; do
    [ "$id" = null ] && continue
    local below
    below=$(awk -v s="$symbol" -v i="$id" '$1 == s && $2 <= i' <<<"$fakekeys" | sort)
    expected=$((expected + $(grep -c . <<<"$below")))
    if [ -n "$(comm -23 <(echo "$below") <(echo "$ledger") | grep .)" ]; then
      MATCH_DETAIL="fake trades up to the stored position of $symbol missing in the ledger: $(comm -23 <(echo "$below") <(echo "$ledger") | head -3 | tr '\n' ';')"
      return 1
    fi
  done < <(jq -r '.Symbols | to_entries[] | "\(.key) \(.value.LastTradeId)"' <<<"$state")
  counted=$(metric_sum "$(scrape "$silo")" grinder_fills_total)
  MATCH_DETAIL="ledger rows $rows (fake trades up to the stored positions $expected, counted in /metrics ${counted:-none})"
  [ "${counted%.*}" = "$rows" ]
}

# Builds what the scripts run (incremental when already built). Grinder.Silo references Grinder.FakeBinance (the demo
# seam), so one build also brings the fake exchange executable up to date.
build_release() {
  local log=$1
  if ! (cd "$GRINDER_ROOT" && dotnet build -c Release Grinder.Silo/Grinder.Silo.csproj -nologo -v q) >"$log" 2>&1; then
    tail -n 30 "$log"
    return 1
  fi
}

SILO_DLL="$GRINDER_ROOT/Grinder.Silo/bin/Release/net10.0/Grinder.Silo.dll"
FAKE_DLL="$GRINDER_ROOT/Grinder.FakeBinance/bin/Release/net10.0/Grinder.FakeBinance.dll"

# pin_build: copies the built silo and fake exchange into $WORK and points SILO_DLL and FAKE_DLL there. A script that runs
# for minutes (the fire drill waits out an alert window while CI runs other steps) then never executes assemblies that
# another build of the same tree may rewrite under it.
pin_build() {
  mkdir -p "$WORK/bin" || return 1
  cp -a "$(dirname "$SILO_DLL")" "$WORK/bin/silo" && cp -a "$(dirname "$FAKE_DLL")" "$WORK/bin/fake" || return 1
  SILO_DLL="$WORK/bin/silo/$(basename "$SILO_DLL")"
  FAKE_DLL="$WORK/bin/fake/$(basename "$FAKE_DLL")"
}

# --- PostgreSQL -----------------------------------------------------------------------------------------------------

# pg_use_connection_string CONNSTR: exports PGHOST/PGPORT/PGUSER/PGPASSWORD/PGDATABASE from an Npgsql connection
# string, so a plain `psql` connects to the same database. Understands the usual Npgsql keywords and their aliases.
pg_use_connection_string() {
  local connection=$1 pair key value
  unset PGHOST PGPORT PGUSER PGPASSWORD PGDATABASE
  local IFS=';'
  for pair in $connection; do
    [[ $pair == *=* ]] || continue
    key=${pair%%=*}; value=${pair#*=}
    key=$(tr -d '[:space:]' <<<"$key" | tr '[:upper:]' '[:lower:]')
    value=$(sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' -e "s/^'\(.*\)'\$/\1/" -e 's/^"\(.*\)"$/\1/' <<<"$value")
    case $key in
      host|server) export PGHOST=$value ;;
      port) export PGPORT=$value ;;
      username|userid|user|uid) export PGUSER=$value ;;
      password|pwd) export PGPASSWORD=$value ;;
      database|db) export PGDATABASE=$value ;;
    esac
  done
  # Several hosts (failover lists) are comma-separated in Npgsql; psql takes the same list.
}

# pg_bin_dir: directory with initdb, pg_ctl and postgres of one PostgreSQL installation (newest first).
pg_bin_dir() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4 -n -r) /usr/local/pgsql/bin /usr/local/bin /usr/bin; do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/postgres" ]; then
      echo "$d"; return 0
    fi
  done
  return 1
}

# Installs the Debian PostgreSQL packages when the server binaries or psql are missing (root only).
ensure_postgres_binaries() {
  if pg_bin_dir >/dev/null && command -v psql >/dev/null; then
    return 0
  fi
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
    echo "PostgreSQL binaries (initdb, pg_ctl, postgres, psql) not found: apt-get install -y postgresql" >&2
    return 1
  fi
  echo "installing the Debian package postgresql" >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >/dev/null 2>&1
  pg_bin_dir >/dev/null && command -v psql >/dev/null
}

# Runs a command as the postgres user when we are root (initdb and postgres refuse root).
as_pg_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# pg_throwaway_start: a private server on a free loopback port, data in a temp directory, trust authentication,
# unix socket in that directory. Sets PG_ADMIN (an Npgsql admin connection string), PG_DIR. Stopped by the EXIT trap.
pg_throwaway_start() {
  local bin port
  bin=$(pg_bin_dir) || { echo "no PostgreSQL server binaries" >&2; return 1; }
  PG_DIR=$(mktemp -d /tmp/grinder-pg-XXXXXX)
  mkdir -p "$PG_DIR/socket"
  [ "$(id -u)" -eq 0 ] && chown -R postgres "$PG_DIR"
  on_exit "pg_throwaway_stop"
  as_pg_owner "$bin/initdb" -D "$PG_DIR/data" -U grinder_admin --auth=trust --encoding=UTF8 --locale=C --no-sync \
    >"$PG_DIR/initdb.log" 2>&1 || { cat "$PG_DIR/initdb.log" >&2; return 1; }
  for _ in 1 2 3; do
    free_port port || return 1
    # Throwaway data: durability off makes it faster, nothing else.
    if as_pg_owner "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
        -o "-p $port -k $PG_DIR/socket -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        start >/dev/null 2>&1; then
      PG_BIN=$bin
      PG_ADMIN="Host=127.0.0.1;Port=$port;Username=grinder_admin;Database=postgres"
      return 0
    fi
    grep -qi "could not bind" "$PG_DIR/server.log" 2>/dev/null || break
  done
  tail -n 20 "$PG_DIR/server.log" >&2
  return 1
}

pg_throwaway_stop() {
  [ -n "${PG_DIR:-}" ] || return 0
  if [ -f "$PG_DIR/data/postmaster.pid" ]; then
    as_pg_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w -t 20 stop >/dev/null 2>&1
  fi
  rm -rf "$PG_DIR"
}

# psql_admin / psql_app SQL: one statement through the admin or the application role; tuples only, unaligned.
psql_admin() { (pg_use_connection_string "$PG_ADMIN"; export PGDATABASE=${1#@}; shift; psql -X -q -t -A -v ON_ERROR_STOP=1 -c "$*"); }

# pg_create_app_database: a new database owned by a new login role (a non-superuser, like compose's grinder role).
# Needs PG_ADMIN. Sets PG_APP_DB, PG_APP_ROLE and GRINDER_PG (the silo's connection string; it holds a password).
pg_create_app_database() {
  local suffix admin_db
  suffix=$(tr -dc 'a-z0-9' </dev/urandom | head -c 10)
  PG_APP_DB="grinder_smoke_$suffix"
  PG_APP_ROLE="grinder_smoke_${suffix}_app"
  local password
  password=$(tr -dc 'A-Za-z0-9' </dev/urandom | head -c 24)
  admin_db=$(pg_use_connection_string "$PG_ADMIN"; echo "${PGDATABASE:-postgres}")
  psql_admin "@$admin_db" "CREATE ROLE $PG_APP_ROLE LOGIN PASSWORD '$password'" || return 1
  psql_admin "@$admin_db" "CREATE DATABASE $PG_APP_DB OWNER $PG_APP_ROLE" || return 1
  on_exit "psql_admin @$admin_db 'DROP DATABASE IF EXISTS $PG_APP_DB WITH (FORCE)'; psql_admin @$admin_db 'DROP ROLE IF EXISTS $PG_APP_ROLE'"
  local host port
  host=$(pg_use_connection_string "$PG_ADMIN"; echo "${PGHOST:-127.0.0.1}")
  port=$(pg_use_connection_string "$PG_ADMIN"; echo "${PGPORT:-5432}")
  GRINDER_PG="Host=$host;Port=$port;Username=$PG_APP_ROLE;Password=$password;Database=$PG_APP_DB"
}

# postgres_setup: the server of GRINDER_TEST_POSTGRES (an admin connection string) or a throwaway one, and in it a new
# database owned by a new login role that is no superuser (like compose's grinder role). Exits the script on failure.
postgres_setup() {
  if [ -n "${GRINDER_TEST_POSTGRES:-}" ]; then
    PG_ADMIN=$GRINDER_TEST_POSTGRES
    command -v psql >/dev/null || ensure_postgres_binaries || { fail "PostgreSQL: psql missing"; summary; exit 1; }
    note "PostgreSQL: the server named by GRINDER_TEST_POSTGRES"
  elif ensure_postgres_binaries && pg_throwaway_start; then
    note "PostgreSQL: throwaway server in $PG_DIR"
  else
    fail "PostgreSQL server: none given (GRINDER_TEST_POSTGRES) and no throwaway server could start"; summary; exit 1
  fi
  if ! pg_create_app_database; then
    fail "PostgreSQL: could not create the application database and role"; summary; exit 1
  fi
  local superuser
  superuser=$(psql_app "SELECT rolsuper FROM pg_roles WHERE rolname = '$PG_APP_ROLE'")
  check "PostgreSQL: silo role $PG_APP_ROLE owns database $PG_APP_DB and is no superuser" test "$superuser" = f
}

# psql_app SQL: a statement in the application database as the admin role (operators' psql session).
psql_app() { psql_admin "@$PG_APP_DB" "$*"; }
