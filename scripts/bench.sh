#!/usr/bin/env bash
# make bench: Zoho calls per order (zbsync and a straightforward baseline), a 5,000-order backfill at Zoho's
# per-minute limit on a scaled clock, planning time and memory without network, webhook intake. Prints the table
# and writes docs/BENCHMARKS.md with the machine, the date and the commit.
#
# Environment: BENCH_SCALE (backfill clock scale, default 30), BENCH_SCRATCH (build folder, default
# .build-bench-release), BENCH_KEEP=1 keeps the work folder.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
cd "$here"
scale="${BENCH_SCALE:-30}"
scratch="${BENCH_SCRATCH:-.build-bench-release}"
work="$(mktemp -d "${TMPDIR:-/tmp}/zbsync-bench.XXXXXX")"
results="$work/results"
mkdir -p "$results"
sandboxes=()
cleanup() {
  for s in "${sandboxes[@]}"; do "$here/scripts/sandbox.sh" stop "$s" || true; done
  if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "bench: work folder kept in $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
start_sandbox() {   # name, options…  → prints the port (call as port="$(start_sandbox …)")
  local name="$1"; shift
  "$here/scripts/sandbox.sh" start "$work/$name" "$@"
}
stop_sandbox() { "$here/scripts/sandbox.sh" stop "$work/$1" || true; }
t0=$SECONDS

echo "bench: building (release)" >&2
swift build -c release --scratch-path "$scratch" >&2   # zbsync and zbsync-bench in one build
bin="$(swift build -c release --scratch-path "$scratch" --show-bin-path)"
bench="$bin/zbsync-bench"

{
  echo "Date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  if [ -n "$(git status --porcelain 2>/dev/null | grep -v '^?? ' || true)" ]; then commit="$commit (with uncommitted changes)"; fi
  echo "Commit: \`$commit\`"
  echo "Machine: \`$(uname -a)\`"
  echo "CPU: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2 | sed 's/^ *//' || echo unknown))"
  echo "Memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo 2>/dev/null || echo unknown)"
  echo "Swift: $(swift --version 2>/dev/null | head -n 1)"
  echo "Build: \`swift build -c release\` (zbsync and zbsync-bench)"
  echo "Sandbox: \`sandbox/zbsandbox.py\` on 127.0.0.1, Python $(python3 -c 'import platform; print(platform.python_version())')"
} >"$results/machine.txt"

echo "bench: calls per order (two sandboxes, seed 1, 100 orders)" >&2
sandboxes+=("$work/calls-zbsync" "$work/calls-baseline" "$work/backfill")   # stopped on any exit
common=(--seed 1 --orders 100 --zoho-rpm 60000 --zoho-daily 1000000 --ttl 900)
port_a="$(start_sandbox calls-zbsync "${common[@]}")"
port_b="$(start_sandbox calls-baseline "${common[@]}")"
"$bench" calls --port "$port_a" --baseline-port "$port_b" --dir "$work" --out "$results/calls.json"
stop_sandbox calls-zbsync; stop_sandbox calls-baseline

echo "bench: backfill of 5,000 orders at 100 calls/min, clock ×$scale" >&2
port_c="$(start_sandbox backfill --seed 1 --orders 5000 --time-scale "$scale" --zoho-rpm 100 --zoho-daily 1000000 --bc-quota 1000000 --ttl 1800)"
home_dir="$work"; [ -d /dev/shm ] && [ -w /dev/shm ] && home_dir=/dev/shm
"$bench" backfill --port "$port_c" --scale "$scale" --rpm 100 --dir "$work" --home-dir "$home_dir" --out "$results/backfill.json"
stop_sandbox backfill

echo "bench: limiter rate, a 300-order backfill at 100 calls/min, clock ×10" >&2
sandboxes+=("$work/backfill-rate")
port_r="$(start_sandbox backfill-rate --seed 1 --orders 300 --time-scale 10 --zoho-rpm 100 --zoho-daily 1000000 --bc-quota 1000000 --ttl 900)"
rate_home="$work/rate"; mkdir -p "$rate_home"; [ -d /dev/shm ] && [ -w /dev/shm ] && rate_home="$(mktemp -d /dev/shm/zbsync-bench.XXXXXX)"
"$bench" backfill --port "$port_r" --scale 10 --rpm 100 --dir "$work" --home-dir "$rate_home" --out "$results/backfill-rate.json"
stop_sandbox backfill-rate
case "$rate_home" in /dev/shm/*) rm -rf "$rate_home" ;; esac

for n in 1000 10000 100000; do
  echo "bench: planning $n orders" >&2
  "$bench" plan --orders "$n" --out "$results/plan-$n.json"
done

echo "bench: webhook intake" >&2
"$bench" webhook --zbsync "$bin/zbsync" --dir "$work" --deliveries 200 --concurrency 2 --out "$results/webhook.json"

echo "Total: $((SECONDS - t0)) s wall for \`make bench\` (build included)" >>"$results/machine.txt"
"$bench" report --results "$results" --out "$here/docs/BENCHMARKS.md"
echo "bench: wrote docs/BENCHMARKS.md ($((SECONDS - t0)) s)" >&2
