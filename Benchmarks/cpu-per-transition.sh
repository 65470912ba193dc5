#!/usr/bin/env bash
# Server CPU per transition: runs `orchestrator bench` with the given arguments and divides
# the CPU time (utime + stime, /proc/PID/stat) that every `orchestrator serve` process used
# during the run by the transitions the bench acknowledged.
#
#   Benchmarks/cpu-per-transition.sh --server http://127.0.0.1:29001 --clients 64 --duration 20
#   Benchmarks/cpu-per-transition.sh --server http://127.0.0.1:29001 --clients 64 --rate 5000 --duration 20
set -euo pipefail
bin="${ORCHESTRATOR_BIN:-.build/release/orchestrator}"
pids=$(pgrep -f -- " serve --node-id" || true)
[ -n "$pids" ] || { echo "error: no 'orchestrator serve' process is running (start: $bin dev --nodes 3)" >&2; exit 2; }
ticks() { local sum=0; for p in $pids; do read -r -a f < "/proc/$p/stat"; sum=$((sum + f[13] + f[14])); done; echo $sum; }
hz=$(getconf CLK_TCK)
before=$(ticks)
report=$("$bin" bench --json "$@")
after=$(ticks)
python3 - "$before" "$after" "$hz" "$report" <<'PY'
import json, sys
before, after, hz, report = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), json.loads(sys.argv[4])
n, elapsed = report["transitions"], report["elapsed_seconds"]
cpu = (after - before) / hz
out = {"mode": report.get("mode"), "clients": report["clients"], "transitions": n,
       "per_second": round(n / elapsed) if elapsed else None,
       "p50_ms": round(report["p50_us"] / 1000, 2), "p99_ms": round(report["p99_us"] / 1000, 2),
       "p999_ms": round(report["p999_us"] / 1000, 2), "max_ms": round(report["max_us"] / 1000, 1),
       "server_cpu_s": round(cpu, 2), "server_cpu_us_per_transition": round(cpu / n * 1e6, 1) if n else None,
       "errors": report.get("errors")}
for key in ("target_rate_per_second", "scheduled_transitions", "max_lag_ms"):
    if key in report: out[key] = report[key]
print(json.dumps(out))
PY
