#!/usr/bin/env bash
# Start or stop the local sandbox of both APIs.
#   scripts/sandbox.sh start DIR [sandbox options…]   prints the port once it listens
#   scripts/sandbox.sh stop DIR
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
cmd="${1:?start|stop}"; dir="${2:?state dir}"; shift 2
case "$cmd" in
  start)
    mkdir -p "$dir"
    rm -f "$dir/port"
    python3 "$here/sandbox/zbsandbox.py" --port 0 --port-file "$dir/port" --state-dir "$dir" "$@" \
      >"$dir/sandbox.out" 2>&1 &
    echo $! >"$dir/pid"
    for _ in $(seq 1 200); do
      [ -s "$dir/port" ] && { cat "$dir/port"; exit 0; }
      kill -0 "$(cat "$dir/pid")" 2>/dev/null || { echo "sandbox failed to start:" >&2; cat "$dir/sandbox.out" >&2; exit 1; }
      sleep 0.05
    done
    echo "sandbox did not start within 10 s" >&2; exit 1 ;;
  stop)
    if [ -s "$dir/port" ]; then
      curl -s -m 5 -X POST "http://127.0.0.1:$(cat "$dir/port")/_sandbox/shutdown" >/dev/null 2>&1 || true
    fi
    if [ -s "$dir/pid" ]; then
      pid="$(cat "$dir/pid")"
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill "$pid" 2>/dev/null || true
    fi ;;
  *) echo "usage: $0 start|stop DIR" >&2; exit 64 ;;
esac
