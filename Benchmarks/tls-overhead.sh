#!/usr/bin/env bash
# Throughput and server CPU per transition with and without TLS (HTTPS API + Raft mutual TLS),
# 3 durable nodes (`orchestrator dev --nodes 3`), `orchestrator bench` against the leader.
# Runs the configurations interleaved (plain, tls, plain, tls, …) so a noisy shared machine
# hits both alike; prints one JSON line per run. Server CPU is utime+stime (/proc/PID/stat)
# of this script's own three `serve` processes only.
#
#   Benchmarks/tls-overhead.sh [rounds=2] [clients=64] [seconds=20]
set -euo pipefail
bin="${ORCHESTRATOR_BIN:-.build/release/orchestrator}"
rounds="${1:-2}"; clients="${2:-64}"; seconds="${3:-20}"
work=$(mktemp -d /tmp/orch-tls-bench.XXXXXX)
dev=
trap 'if [ -n "$dev" ]; then kill -INT "$dev" 2>/dev/null || true; sleep 3; fi; rm -rf "$work"' EXIT
hz=$(getconf CLK_TCK)
ticks() { local sum=0; for p in $1; do read -r -a f < "/proc/$p/stat"; sum=$((sum + f[13] + f[14])); done; echo $sum; }

run() {  # $1 = plain | tls
    local mode=$1 data="$work/$1-$RANDOM" flags=() bench_tls=()
    [ "$mode" = tls ] && flags=(--tls) && bench_tls=(--cacert "$data/certs/ca.pem")
    "$bin" dev --nodes 3 --data-dir "$data" --workflows workflows "${flags[@]}" > "$work/dev.out" 2>&1 &
    dev=$!
    for _ in $(seq 1 100); do grep -q "^leader:" "$work/dev.out" && break; sleep 0.2; done
    local leader
    leader=$(sed -n 's/^leader: node [0-9]* (\(.*\));.*/\1/p' "$work/dev.out")
    [ -n "$leader" ] || { cat "$work/dev.out" >&2; exit 1; }
    sleep 2  # the leader registers the cookbook
    local pids before after report
    pids=$(pgrep -P "$dev" | tr '\n' ' ')
    before=$(ticks "$pids")
    report=$("$bin" bench --json --server "$leader" --clients "$clients" --duration "$seconds" "${bench_tls[@]}")
    after=$(ticks "$pids")
    kill -INT "$dev"; wait "$dev" || true; dev=
    python3 - "$mode" "$before" "$after" "$hz" "$report" <<'PY'
import json, sys
mode, before, after, hz, report = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), json.loads(sys.argv[5])
n, elapsed = report["transitions"], report["elapsed_seconds"]
cpu = (after - before) / hz
print(json.dumps({"mode": mode, "clients": report["clients"], "transitions": n, "per_second": round(n / elapsed),
                  "p50_ms": round(report["p50_us"] / 1000, 2), "p99_ms": round(report["p99_us"] / 1000, 2),
                  "server_cpu_s": round(cpu, 2), "server_cpu_us_per_transition": round(cpu / n * 1e6, 1) if n else None,
                  "errors": report.get("errors")}))
PY
}

for _ in $(seq 1 "$rounds"); do run plain; run tls; done
