#!/usr/bin/env bash
# The runbook's "cat $FILL_CURSOR_PATH" / "rm $FILL_CURSOR_PATH" for this service, in both storage modes
# (docs/runbooks/26_FILL_TRACKER_TRIAGE.md, "Cursor issues").
#
#   scripts/fill_cursor.sh show [ACCOUNT]                 stored cursor state of ACCOUNT (all accounts without one)
#   scripts/fill_cursor.sh reset ACCOUNT [SYMBOL] [FROM]  move the fetch cursor back through the silo's admin endpoint
#   scripts/fill_cursor.sh delete ACCOUNT [--yes] [--force]
#                                                         remove an unreadable stored state (all silos stopped first)
#
# Environment:
#   GRINDER_POSTGRES     Npgsql connection string: PostgreSQL mode (psql reads grinder_grain_state_json)
#   GRINDER_PSQL         instead of GRINDER_POSTGRES, a psql command to run as is, e.g. for the compose stack
#                        "docker-compose exec -T postgres psql -U grinder -d grinder"
#   GRINDER_DATA_DIR     local mode data directory (default ./.grinder), used when GRINDER_POSTGRES is unset
#   GRINDER_URL          a silo's HTTP address for reset (default http://127.0.0.1:9090)
#   GRINDER_ADMIN_TOKEN  bearer token for /admin when the silo is not reached over loopback
#
# ACCOUNT is the account id (`main` for BINANCE_API_KEY/SECRET, or Grinder__Accounts__N__Id); the grain key is
# acct-ACCOUNT. FROM is an ISO 8601 time (2026-11-01T00:00:00Z): the reset re-reads trades from then on; the counted
# high-water mark keeps re-read trades from being counted twice. Without FROM the bootstrap lookback applies.
# Nothing here prints the connection string or the token.
set -uo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"

usage() {
  sed -n '5,8p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 64
}

validate_account() {
  [[ ${1:-} =~ ^[A-Za-z0-9._~-]+$ ]] || { echo "invalid account id '${1:-}' (letters, digits, . _ ~ -)" >&2; exit 64; }
}

postgres_mode() { [ -n "${GRINDER_POSTGRES:-}" ] || [ -n "${GRINDER_PSQL:-}" ]; }

# psql against GRINDER_PSQL's command, or GRINDER_POSTGRES with its parts as PG* variables (the password never on a
# command line).
psql_grinder() {
  if [ -n "${GRINDER_PSQL:-}" ]; then
    # shellcheck disable=SC2086 # a command line given by the operator, split into words on purpose
    $GRINDER_PSQL -X -q -t -A -v ON_ERROR_STOP=1 "$@"
  else
    (pg_use_connection_string "$GRINDER_POSTGRES"; psql -X -q -t -A -v ON_ERROR_STOP=1 "$@")
  fi
}

data_dir() { echo "${GRINDER_DATA_DIR:-.grinder}"; }
state_file() { echo "$(data_dir)/fills/ingest/$(uri_escape "fillingest/acct-$1").json"; }

pretty() {
  local text
  text=$(cat)
  if ! { command -v jq >/dev/null && jq . 2>/dev/null <<<"$text"; }; then
    printf '%s\n' "$text"
  fi
}

show() {
  local account=${1:-}
  if postgres_mode; then
    local filter=""
    if [ -n "$account" ]; then
      validate_account "$account"
      filter="AND grain_key = 'acct-$account'"
    fi
    local out
    out=$(psql_grinder -c "
      SELECT format(E'# %s (state %s, version %s, written %s)\n%s', grain_key, state_name, version, written_at,
                    coalesce(jsonb_pretty(state), '(payload is not readable UTF-8 JSON: delete it with scripts/fill_cursor.sh delete)'))
        FROM grinder_grain_state_json
       WHERE state_name = 'ingest' $filter
       ORDER BY grain_key") || { echo "psql failed (is GRINDER_POSTGRES right and the schema applied?)" >&2; return 1; }
    if [ -z "$out" ]; then
      echo "No cursor stored${account:+ for account $account} (grinder_grain_state_json, state_name 'ingest')"
      return 1
    fi
    echo "$out"
    return 0
  fi

  local files=()
  if [ -n "$account" ]; then
    validate_account "$account"
    files=("$(state_file "$account")")
  else
    shopt -s nullglob
    files=("$(data_dir)"/fills/ingest/*.json)
    shopt -u nullglob
  fi
  if [ "${#files[@]}" -eq 0 ] || [ ! -f "${files[0]}" ]; then
    echo "No cursor file${account:+ for account $account} under $(data_dir)/fills/ingest"
    return 1
  fi
  local file
  for file in "${files[@]}"; do
    echo "# $file"
    ls -la "$file"
    pretty <"$file"
  done
}

reset() {
  local account=${1:-} symbol=${2:-} from=${3:-}
  [ -n "$account" ] || usage
  validate_account "$account"
  local base=${GRINDER_URL:-http://127.0.0.1:9090}
  local url="${base%/}/admin/cursor/reset?account=$(uri_escape "$account")"
  [ -n "$symbol" ] && url+="&symbol=$(uri_escape "$symbol")"
  [ -n "$from" ] && url+="&from=$(uri_escape "$from")"
  local body status
  body=$(mktemp)
  # The token goes to curl through a config on stdin, so it never shows in the process list.
  status=$(
    {
      if [ -n "${GRINDER_ADMIN_TOKEN:-}" ]; then
        local escaped=${GRINDER_ADMIN_TOKEN//\\/\\\\}
        printf 'header = "Authorization: Bearer %s"\n' "${escaped//\"/\\\"}"
      fi
    } | curl -sS -K - -X POST -o "$body" -w '%{http_code}' --max-time 30 "$url"
  ) || { rm -f "$body"; echo "could not reach $base" >&2; return 1; }
  pretty <"$body"
  rm -f "$body"
  if [ "$status" != "200" ]; then
    echo "reset refused: HTTP $status" >&2
    return 1
  fi
}

# A silo still running would write its in-memory state back over the deletion: refuse unless all are stopped.
live_silos() {
  if postgres_mode; then
    psql_grinder -c "SELECT count(*) FROM grinder_cluster_members
                      WHERE status IN ('Joining', 'Active', 'ShuttingDown') AND i_am_alive_time > now() - interval '90 seconds'" 2>/dev/null
  else
    curl -s -o /dev/null --max-time 3 "${GRINDER_URL:-http://127.0.0.1:9090}/healthz" && echo 1 || echo 0
  fi
}

delete() {
  local account="" yes=0 force=0 arg
  for arg in "$@"; do
    case $arg in
      --yes) yes=1 ;;
      --force) force=1 ;;
      -*) usage ;;
      *) account=$arg ;;
    esac
  done
  [ -n "$account" ] || usage
  validate_account "$account"
  local target
  if postgres_mode; then
    target="the row of grinder_grain_state with grain_type 'ingest' and grain_id_ext 'acct-$account'"
  else
    target=$(state_file "$account")
  fi
  cat <<EOF
Deleting the stored state of account $account: $target
This drops its cursors AND its cumulative fill counters; the account starts over from the bootstrap lookback.
Use it only for an unreadable state (FILL_CURSOR_LOAD_ERROR); otherwise prefer: scripts/fill_cursor.sh reset $account
Stop the world first: every silo of the cluster must be stopped (docker-compose stop silo1 silo2), or a running
activation writes its state back. Start them again afterwards (docker-compose start silo1 silo2).
EOF
  if [ "$yes" -ne 1 ]; then
    echo "Not deleted: add --yes to confirm."
    return 2
  fi
  local live
  live=$(live_silos)
  if [ "$force" -ne 1 ] && [ "${live:-0}" != "0" ]; then
    echo "Refused: $live silo(s) still running (stop them, or add --force if they are known dead)." >&2
    return 3
  fi
  # The cluster-wide metrics grain keeps the account's last snapshot, versioned by the account's save count. A state
  # started over saves with lower versions, which it would ignore until the old count is passed (metrics frozen,
  # cursor age growing): the account's snapshot goes with its state.
  if postgres_mode; then
    local n
    n=$(psql_grinder -c "
      WITH gone AS (DELETE FROM grinder_grain_state
                     WHERE grain_type = 'ingest' AND grain_id_ext = 'acct-$account' RETURNING 1),
           snapshot AS (UPDATE grinder_grain_state
                           SET payload = convert_to((convert_from(payload, 'UTF8')::jsonb #- '{Accounts,$account}')::text, 'UTF8')
                         WHERE grain_type = 'metrics' AND grinder_payload_json(payload) -> 'Accounts' ? '$account'
                     RETURNING 1)
      SELECT (SELECT count(*) FROM gone) || ' ' || (SELECT count(*) FROM snapshot)") || return 1
    echo "deleted ${n%% *} state row(s); removed the account's metrics snapshot from ${n#* } row(s)"
    [ "${n%% *}" != "0" ]
  else
    if [ ! -f "$target" ]; then
      echo "No cursor file $target" >&2
      return 1
    fi
    rm -f -- "$target" && echo "deleted $target"
    local metrics
    metrics="$(data_dir)/fills/metrics/$(uri_escape "fillmetrics/0").json"
    if [ -f "$metrics" ]; then
      if command -v jq >/dev/null && jq -e --arg a "$account" '.state.Accounts | has($a)' "$metrics" >/dev/null 2>&1; then
        jq --arg a "$account" 'del(.state.Accounts[$a])' "$metrics" >"$metrics.edit" && mv -f -- "$metrics.edit" "$metrics" \
          && echo "removed the account's snapshot from $metrics"
      elif ! command -v jq >/dev/null; then
        # Without jq: drop the whole snapshot file; every polling account reports again on its next poll.
        rm -f -- "$metrics" && echo "deleted $metrics (metrics snapshots; accounts report again on their next poll)"
      fi
    fi
  fi
}

command=${1:-}
[ $# -gt 0 ] && shift
case $command in
  show) show "$@" ;;
  reset) reset "$@" ;;
  delete) delete "$@" ;;
  *) usage ;;
esac
