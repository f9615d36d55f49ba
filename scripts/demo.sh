#!/usr/bin/env bash
# make demo: a full run against the local sandbox, exactly as a user would run zbsync.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
zbsync="${1:?path to the zbsync binary}"
work="$(mktemp -d "${TMPDIR:-/tmp}/zbsync-demo.XXXXXX")"
home="$work/home"
trap '"$here/scripts/sandbox.sh" stop "$work/sandbox"' EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

step "Starting the sandbox (BigCommerce store with 50 seeded orders, empty Zoho Books organization)"
port="$("$here/scripts/sandbox.sh" start "$work/sandbox" --seed 7 --orders 50 --zoho-rpm 600 --zoho-daily 20000 --ttl 900)"
echo "sandbox on 127.0.0.1:$port"

step "zbsync init"
run "$zbsync" init --home "$home"

step "Pointing the config at the sandbox and starting 31 days back (the seeded orders are from the last 30 days)"
start="$(date -u -d '31 days ago' +%Y-%m-%dT%H:%M:%SZ)"
cat >>"$home/zbsync.conf" <<CONF

# --- demo: the local sandbox instead of the real services ---
[bigcommerce]
api_url = http://127.0.0.1:$port
[zoho]
accounts_url = http://127.0.0.1:$port
allow_custom_api_domain = true
requests_per_minute = 600
daily_limit = 20000
[taxes]
mode = create
CONF
sed -i "s|^start = .*|start = $start|" "$home/zbsync.conf"
grep -E '^(start|api_url|accounts_url|allow_custom_api_domain|requests_per_minute)' "$home/zbsync.conf"

step "zbsync auth bigcommerce / auth zoho (credentials from the environment, as in cron)"
ZBSYNC_BIGCOMMERCE_TOKEN=bc-sandbox-token run "$zbsync" auth bigcommerce --home "$home" --store-hash sbx1a2b3c
ZBSYNC_ZOHO_CLIENT_SECRET=zoho-sandbox-secret run "$zbsync" auth zoho --home "$home" --region us --client-id zoho-sandbox-client --code zoho-sandbox-code

step "zbsync doctor"
run "$zbsync" doctor --home "$home"

step "zbsync sync --dry-run (first lines)"
"$zbsync" sync --home "$home" --dry-run >"$work/plan.txt" || true
head -n 25 "$work/plan.txt"; echo "…"; tail -n 1 "$work/plan.txt"

step "zbsync sync"
run "$zbsync" sync --home "$home" || echo "(sync exited $?)"

step "zbsync sync again (nothing changed: no Zoho writes)"
run "$zbsync" sync --home "$home" || echo "(sync exited $?)"

step "What landed in Zoho Books"
python3 "$here/scripts/demo_report.py" "$port"

step "zbsync status"
run "$zbsync" status --home "$home" || true
echo
echo "Demo home kept in $home (the sandbox is stopped)."
