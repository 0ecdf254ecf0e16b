#!/usr/bin/env bash
# Screenshot of the Orleans dashboard of a running demo silo (runbook 26, "Orleans dashboard").
#
#   bash scripts/dashboard_screenshot.sh [--out PATH]      (default docs/images/dashboard.png; the grains page goes
#                                                          beside it as dashboard-grains.png)
#
# Starts a silo in local demo mode (FILL_INGEST_ENABLED=1, no keys: the built-in fake exchange, account demo,
# source="sim") on free loopback ports, waits until the account polls, checks the dashboard's own data endpoint lists
# FillIngestGrain, installs Debian's chromium when missing (root, apt-get), takes headless screenshots of /dashboard/
# (overview) and /dashboard/#/grains and checks each PNG is a real picture (PNG signature, more than 20 KB).
# Prints PASS/FAIL lines and "N passed, N failed"; exits non-zero on failure.
set -uo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"

OUT="$GRINDER_ROOT/docs/images/dashboard.png"
while [ $# -gt 0 ]; do
  case $1 in
    --out) OUT=${2:?--out needs a path}; shift 2 ;;
    *) echo "usage: $0 [--out PATH]" >&2; exit 64 ;;
  esac
done

script_begin dashboard_screenshot

browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ] && [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  echo "installing the Debian package chromium (once)"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium) >"$WORK/apt.log" 2>&1
  browser=$(command -v chromium || true)
fi
if [ -n "$browser" ]; then
  pass "browser: $("$browser" --version 2>/dev/null | head -n 1)"
else
  fail "browser: chromium not found and not installable (apt-get install -y chromium)"; summary; exit 1
fi

free_port HTTP_PORT && free_port SILO_PORT && free_port GATEWAY_PORT || { fail "free ports"; summary; exit 1; }
URL="http://127.0.0.1:$HTTP_PORT"
SPAWN_DIR=$WORK spawn SILO_PID "$WORK/silo.log" FILL_INGEST_ENABLED=1 "GRINDER_DATA_DIR=$WORK/data" \
  Grinder__Ingest__PollInterval=00:00:01 "Grinder__Orleans__SiloPort=$SILO_PORT" "Grinder__Orleans__GatewayPort=$GATEWAY_PORT" -- \
  dotnet "$SILO_DLL" --urls "$URL"
sim_polls() { num_gt "$(metric_value "$(scrape "$URL")" 'grinder_fill_ingest_polls_total{source="sim"}')" 2; }
if wait_until 90 sim_polls; then
  pass "demo silo polls the built-in fake exchange (grinder_fill_ingest_polls_total{source=\"sim\"} > 2)"
else
  fail "demo silo did not poll"; tail -n 20 "$WORK/silo.log"; summary; exit 1
fi
check "GET /dashboard/ serves the Orleans dashboard page" bash -c "curl -sf '$URL/dashboard/' | grep -q '<title>Orleans Dashboard</title>'"
lists_grains() { curl -sf "$URL/dashboard/DashboardCounters" | grep -q '"grainType":"Grinder.Grains.Ingest.FillIngestGrain"'; }
check "dashboard data (GET /dashboard/DashboardCounters) lists FillIngestGrain" wait_until 20 lists_grains

mkdir -p "$(dirname "$OUT")"
# shoot PAGE FILE NAME: headless, no network beyond the silo, a fresh profile; virtual time lets the page's scripts
# fetch their data and render the charts before the picture is taken.
shoot() {
  local page=$1 file=$2 name=$3 size signature
  rm -f "$WORK/shot.png"
  (cd "$WORK" && timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync --disable-dev-shm-usage \
    --user-data-dir="$(mktemp -d "$WORK/profile-XXXXXX")" --window-size=1400,900 --virtual-time-budget=8000 \
    --screenshot="$WORK/shot.png" "$URL$page") >>"$WORK/chromium.log" 2>&1
  size=$(stat -c %s "$WORK/shot.png" 2>/dev/null || echo 0)
  signature=$(head -c 8 "$WORK/shot.png" 2>/dev/null | od -An -tx1 | tr -d ' \n')
  if [ "$signature" = 89504e470d0a1a0a ] && [ "$size" -gt 20480 ]; then
    cp "$WORK/shot.png" "$file"
    pass "screenshot $name ($page): PNG of $((size / 1024)) KB written to $file"
  else
    fail "screenshot $name ($page): no PNG over 20 KB (size $size)"; tail -n 10 "$WORK/chromium.log" | sed 's/^/    /'
  fi
}
shoot /dashboard/ "$OUT" overview
shoot "/dashboard/#/grains" "${OUT%.png}-grains.png" grains

stop_process "$SILO_PID" 45
check "silo stopped on SIGTERM with exit code 0" test "$STOPPED_CODE" = 0
script_end
