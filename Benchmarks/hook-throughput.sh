#!/usr/bin/env bash
# Hook runs per second end to end on a 3-node loopback cluster: transitions are committed by
# `orchestrator bench`, each records one hook whose plugin is /bin/true, the leader's
# dispatcher runs it and commits its result. Also measures this machine's bare process-spawn
# rate (posix_spawn of /bin/true in a loop) as the limit.
#
#   Benchmarks/hook-throughput.sh [--rate R] [--duration S]
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${ORCHESTRATOR_BIN:-.build/release/orchestrator}"
rate=300; duration=15
while [ $# -gt 0 ]; do case "$1" in --rate) rate=$2; shift 2;; --duration) duration=$2; shift 2;; *) echo "unknown option $1" >&2; exit 2;; esac; done
work=$(mktemp -d); trap 'kill $dev 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
cp -r Benchmarks/hooks/workflows Benchmarks/hooks/plugins "$work/"
( cd "$work" && exec "$OLDPWD/$bin" dev --nodes 3 --base-port 29700 --plugins plugins ) > "$work/dev.log" 2>&1 &
dev=$!
for _ in $(seq 50); do curl -sf 127.0.0.1:29701/v1/workflows/cookbook >/dev/null 2>&1 && break; sleep 0.2; done
leader=$(curl -s 127.0.0.1:29701/v1/health | python3 -c 'import json,sys; print(json.load(sys.stdin)["leader_api"])')
runs() { curl -s "$leader/metrics" | awk '/^orchestrator_hook_runs_total/ {s += $2} END {print s + 0}'; }
before=$(runs); start=$(date +%s.%N)
"$bin" bench --server "$leader" --clients 32 --rate "$rate" --duration "$duration" > "$work/bench.txt"
for _ in $(seq 100); do
  pending=$(curl -s "$leader/v1/dispatches?state=pending" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["dispatches"]))')
  [ "$pending" = 0 ] && break; sleep 0.2
done
end=$(date +%s.%N); after=$(runs)
echo "transitions: $(head -1 "$work/bench.txt")"
python3 - "$before" "$after" "$start" "$end" <<'PY'
import sys
b, a, s, e = float(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
print(f"hook runs committed: {a - b:.0f} in {e - s:.1f} s = {(a - b) / (e - s):.0f}/s")
PY
python3 - <<'PY'
import os, time
n, t0 = 0, time.monotonic()
while time.monotonic() - t0 < 3:
    pid = os.posix_spawn("/bin/true", ["/bin/true"], {})
    os.waitpid(pid, 0); n += 1
print(f"bare spawn rate (posix_spawn + wait of /bin/true, one at a time): {n / (time.monotonic() - t0):.0f}/s")
PY
curl -s "$leader/metrics" | grep -E '^orchestrator_hook_start_delay_seconds_bucket' | head -20 || true
