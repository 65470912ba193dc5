#!/usr/bin/env python3
"""What one open dashboard costs the server (docs/performance.md, "Dashboard").

Starts `orchestrator dev --nodes 3`, seeds N instances of the cookbook workflow, then runs
`orchestrator bench --rate R` against the leader several times, alternately without and
with a dashboard open (the overview page in headless Chromium, served by a follower), and
reports the CPU time (utime + stime, /proc/PID/stat) every `serve` process used per run,
and the page's own event-loop lag (the longest a 100 ms timer fired late). `--arms` adds
runs with K emulated dashboards (the page's requests without a browser), whose extra cost
bounds one dashboard's from above when one is too small to see in the machine's noise.

  /usr/bin/python3 Benchmarks/dashboard-cost.py --binary .build/release/orchestrator \
      --instances 10000 --rate 1000 --duration 30 --rounds 2

Needs Debian's chromium, chromium-driver and python3-selenium (run it with /usr/bin/python3).
"""
import argparse
import concurrent.futures
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

parser = argparse.ArgumentParser()
parser.add_argument("--binary", default=".build/release/orchestrator")
parser.add_argument("--instances", type=int, default=10_000)
parser.add_argument("--rate", type=int, default=1_000)
parser.add_argument("--clients", type=int, default=256)
parser.add_argument("--duration", type=float, default=30)
parser.add_argument("--rounds", type=int, default=2)
parser.add_argument("--base-port", type=int, default=29500)
parser.add_argument("--page", default="#/", help="the dashboard view to keep open")
parser.add_argument("--arms", default="none,browser",
                    help="what each round runs, in order: none (no dashboard), browser (one page in headless Chromium), "
                         "emulated:K (K clients that do what the overview page does: one event stream each, and the "
                         "overview's 4 reads once a second)")
args = parser.parse_args()

HZ = os.sysconf("SC_CLK_TCK")
data = tempfile.mkdtemp(prefix="orch-dashcost-")
repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
workflows = os.path.join(data, "workflows")
os.makedirs(workflows)
shutil.copy(os.path.join(repo, "workflows", "cookbook.yaml"), workflows)
dev = subprocess.Popen([args.binary, "dev", "--nodes", "3", "--base-port", str(args.base_port), "--data-dir", os.path.join(data, "dev"),
                        "--clean", "--workflows", workflows, "--plugins", os.path.join(data, "no-plugins")],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def get(port, path):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", path)
    response = connection.getresponse()
    return response.status, json.loads(response.read() or b"null")


def cleanup():
    try:
        os.killpg(dev.pid, signal.SIGTERM)
        dev.wait(10)
    except Exception:
        pass
    shutil.rmtree(data, ignore_errors=True)


try:
    ports = [args.base_port + i for i in (1, 2, 3)]
    leader = None
    for _ in range(200):
        try:
            status, health = get(ports[0], "/v1/health")
            if status == 200 and health["leader"]:
                leader = health["leader"]
                status, _ = get(ports[0], "/v1/workflows/cookbook")
                if status == 200:
                    break
        except Exception:
            pass
        time.sleep(0.1)
    if not leader:
        sys.exit("the cluster did not elect a leader")
    leader_port = args.base_port + leader
    page_port = next(p for p in ports if p != leader_port)
    # The cluster's `serve` processes: those whose data directory is under ours.
    port_of = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % entry) as f:
                argv = f.read().split("\0")
        except OSError:
            continue
        if "serve" in argv and "--api" in argv and any(a.startswith(data) for a in argv):
            port_of[int(entry)] = int(argv[argv.index("--api") + 1].rsplit(":", 1)[1])
    serve_pids = sorted(port_of)
    if len(serve_pids) != 3:
        sys.exit("expected 3 serve processes, found %s" % port_of)

    # Seed: N instances, 16 keep-alive connections.
    local = threading.local()

    def start(i):
        if not hasattr(local, "c"):
            local.c = http.client.HTTPConnection("127.0.0.1", leader_port, timeout=30)
        local.c.request("POST", "/v1/instances", json.dumps({"workflow": "cookbook", "id": "seed-%d" % i}),
                        {"Content-Type": "application/json"})
        response = local.c.getresponse()
        response.read()
        return response.status

    began = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(start, range(args.instances)))
    bad = [s for s in statuses if s != 201]
    print("seeded %d instances in %.1f s (%d not 201)" % (args.instances, time.monotonic() - began, len(bad)), flush=True)

    def ticks():
        out = {}
        for pid in serve_pids:
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            out[pid] = int(fields[11]) + int(fields[12])
        return out

    def bench():
        before, t0 = ticks(), time.monotonic()
        report = json.loads(subprocess.run([args.binary, "bench", "--json", "--server", "http://127.0.0.1:%d" % leader_port,
                                            "--clients", str(args.clients), "--rate", str(args.rate),
                                            "--duration", str(args.duration)], capture_output=True, text=True, check=True).stdout)
        after, elapsed = ticks(), time.monotonic() - t0
        cpu = {port_of[pid]: (after[pid] - before[pid]) / HZ / elapsed for pid in serve_pids}
        return report, cpu

    driver = None

    def open_dashboard():
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
        options = webdriver.ChromeOptions()
        options.binary_location = "/usr/bin/chromium"
        for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1360,900"]:
            options.add_argument(argument)
        d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
        d.get("http://127.0.0.1:%d/ui/%s" % (page_port, args.page))
        # The page's responsiveness: how late a 100 ms timer fires, worst case.
        d.execute_script("window.__lag = 0; let last = performance.now(); setInterval(() => {"
                         " const now = performance.now(); window.__lag = Math.max(window.__lag, now - last - 100); last = now; }, 100);")
        time.sleep(3)
        return d

    def emulated(count, stop):
        """`count` clients doing the overview page's requests: a stream each, read and
        discarded, and the 4 reads once a second."""
        def stream():
            connection = http.client.HTTPConnection("127.0.0.1", page_port, timeout=30)
            connection.request("GET", "/v1/events")
            response = connection.getresponse()
            while not stop.is_set():
                if not response.read1(65536):
                    break
            connection.close()

        def reads():
            connection = http.client.HTTPConnection("127.0.0.1", page_port, timeout=30)
            while not stop.is_set():
                for path in ("/v1/health", "/v1/cluster", "/v1/stats?stale=true", "/v1/dispatches?state=failed&stale=true"):
                    connection.request("GET", path)
                    connection.getresponse().read()
                stop.wait(1.0)
        threads = [threading.Thread(target=f, daemon=True) for _ in range(count) for f in (stream, reads)]
        for t in threads:
            t.start()
        return threads

    rows = []
    for round_ in range(args.rounds):
        for arm in args.arms.split(","):
            stop = threading.Event()
            if arm == "browser":
                driver = open_dashboard()
            elif arm.startswith("emulated:"):
                emulated(int(arm.split(":")[1]), stop)
                time.sleep(2)
            report, cpu = bench()
            row = {"round": round_ + 1, "arm": arm}
            if arm == "browser":
                row["page_max_timer_lag_ms"] = round(driver.execute_script("return window.__lag"), 1)
                row["page_stream"] = driver.find_element("id", "stream-status").text
                driver.quit()
                driver = None
            stop.set()
            total = sum(cpu.values())
            row.update({"transitions_per_s": round(report["transitions"] / report["elapsed_seconds"]),
                        "p99_ms": round(report["p99_us"] / 1000, 1), "errors": report.get("errors"),
                        "cpu_cores_total": round(total, 3), "cpu_cores_page_node": round(cpu[page_port], 3),
                        "cpu_cores_leader": round(cpu[leader_port], 3)})
            rows.append(row)
            print(json.dumps(row), flush=True)
            time.sleep(3)
    for key in ("cpu_cores_total", "cpu_cores_page_node"):
        means = {}
        for arm in args.arms.split(","):
            values = [r[key] for r in rows if r["arm"] == arm]
            means[arm] = sum(values) / len(values)
        print("%s mean by arm: %s" % (key, {arm: round(v, 3) for arm, v in means.items()}), flush=True)
finally:
    cleanup()
