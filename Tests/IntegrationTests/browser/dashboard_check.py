"""Drives the dashboard in headless Chromium (Selenium + chromedriver) against a running
cluster; DashboardBrowserTests starts the cluster and runs this script.

Usage: dashboard_check.py CONFIG_JSON
  CONFIG_JSON: {"url": page node's base URL, "leader": id, "leader_pid": pid, "binary": orchestrator,
                "screenshots": dir, "counts": {"first": 2, ...}, "instance": id in `first`, "total": instances seeded,
                "trigger": {workflow, name, cron, timezone, next_fire (a regex), instance (with an armed timeout)}}
           or, for a cluster that needs tokens: {"url", "leader", "screenshots", "token"}
Prints one line per step; exits 1 with the reason on the first failure.
"""
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

config = json.loads(sys.argv[1])
base = config["url"]
shots = config["screenshots"]


def fail(message):
    print("FAIL: " + message, flush=True)
    try:
        driver.save_screenshot(os.path.join(shots, "failure.png"))
        print("page text at failure:\n" + driver.find_element(By.TAG_NAME, "body").text[:3000], flush=True)
        print("console: " + json.dumps(driver.get_log("browser"))[:3000], flush=True)
    except Exception as error:  # the browser itself may be gone
        print("could not capture the failure: %s" % error, flush=True)
    sys.exit(1)


def wait_for(what, condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        try:
            value = condition()
            if value:
                return value
        except Exception as error:  # elements come and go while the view re-renders
            last_error = error
        time.sleep(0.05)
    fail("timed out after %.1f s waiting for %s (last error: %s)" % (timeout, what, last_error))


def text_of(selector):
    return driver.find_element(By.CSS_SELECTOR, selector).text


def click(selector):
    """Clicks the element, again if the view re-rendered under it (a refetch replaces it)."""
    def attempt():
        driver.find_element(By.CSS_SELECTOR, selector).click()
        return True
    wait_for("a click on " + selector, attempt)


def type_and_submit(field_selector, text, submit_selector, url_part):
    """Types into a form field and submits it, again if the view re-rendered under it (a
    refetch replaces the form, and with it the element or what was typed)."""
    def attempt():
        field = driver.find_element(By.CSS_SELECTOR, field_selector)
        field.clear()
        field.send_keys(text)
        if field.get_attribute("value") != text:
            return False
        driver.find_element(By.CSS_SELECTOR, submit_selector).click()
        return url_part in driver.current_url
    wait_for("%s submitted with %s" % (field_selector, text), attempt)


def cli(*args):
    result = subprocess.run([config["binary"], *args, "--server", base], capture_output=True, text=True, timeout=20)
    if result.returncode != 0:
        fail("orchestrator %s failed: %s %s" % (" ".join(args), result.stdout, result.stderr))
    return result.stdout


def console_errors(ignore_network_failures=False):
    errors = []
    for entry in driver.get_log("browser"):
        if entry.get("level") != "SEVERE":
            continue
        # While the leader is down a request may get 503 (no leader) or fail to connect: the
        # page shows that itself. Script errors are never ignored.
        if ignore_network_failures and entry.get("source") == "network":
            continue
        errors.append(entry)
    return errors


options = webdriver.ChromeOptions()
options.binary_location = "/usr/bin/chromium"
for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1360,900", "--disable-extensions", "--no-first-run"]:
    options.add_argument(argument)
options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
driver.set_page_load_timeout(15)

class PrefixProxy(BaseHTTPRequestHandler):
    """Serves the node under /orch/ (as a reverse proxy with a path prefix does), streaming
    answers so the event stream passes through."""
    protocol_version = "HTTP/1.1"
    upstream = None

    def do_GET(self):
        self.forward()

    def do_POST(self):
        self.forward()

    def forward(self):
        if not self.path.startswith("/orch/"):
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        upstream = http.client.HTTPConnection(*self.upstream, timeout=60)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
        upstream.request(self.command, self.path[len("/orch"):], body or None, headers)
        response = upstream.getresponse()
        self.send_response(response.status)
        chunked = response.getheader("Content-Length") is None
        for key, value in response.getheaders():
            if key.lower() not in ("transfer-encoding", "connection"):
                self.send_header(key, value)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            while True:
                data = response.read1(65536)
                if not data:
                    break
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data) if chunked else data)
                self.wfile.flush()
            if chunked:
                self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, *args):
        pass


def prefix_scenario():
    """Behind a reverse proxy that adds a path prefix, the page and its stream still work."""
    host, port = base.split("//")[1].split(":")
    PrefixProxy.upstream = (host, int(port))
    proxy = ThreadingHTTPServer(("127.0.0.1", 0), PrefixProxy)
    proxy.daemon_threads = True
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    prefixed = "http://127.0.0.1:%d/orch/ui" % proxy.server_address[1]
    driver.get(prefixed)
    wait_for("the redirect to the directory", lambda: driver.current_url.startswith(prefixed + "/"))
    instance = config["instance"]
    driver.get(prefixed + "/#/instances/" + instance)
    wait_for("the instance page behind the prefix", lambda: text_of("#instance-state") == "third")
    wait_for("the stream to be live behind the prefix", lambda: text_of("#stream-status") == "live")
    time.sleep(1.2)
    cli("submit", instance, "first")
    wait_for("the new state over the proxied stream", lambda: text_of("#instance-state") == "first", timeout=3.0)
    print("behind the path prefix /orch/ the page and its stream work", flush=True)
    proxy.shutdown()


def token_scenario():
    """The API answers 401: the page asks for a token, keeps it for the tab, and shows the data."""
    driver.get(base + "/ui/")
    wait_for("the token form", lambda: driver.find_element(By.ID, "token-panel").is_displayed())
    driver.save_screenshot(os.path.join(shots, "token.png"))
    driver.find_element(By.ID, "token-input").send_keys(config["token"])
    click("#token-form button")
    wait_for("the overview with the token", lambda: text_of("[data-card=leader] .value") == "node %d" % config["leader"])
    wait_for("the stream to be live with the token", lambda: text_of("#stream-status") == "live")
    if driver.execute_script("return sessionStorage.getItem('orchestrator.token')") != config["token"]:
        fail("the token was not kept in sessionStorage")
    if driver.find_element(By.ID, "token-panel").is_displayed():
        fail("the token form is still shown")
    driver.refresh()
    wait_for("the overview after a reload (the tab keeps the token)",
             lambda: text_of("[data-card=leader] .value") == "node %d" % config["leader"])
    # The 401s before the token was given are network entries; script errors are not allowed.
    errors = console_errors(ignore_network_failures=True)
    if errors:
        fail("script errors in the console: %s" % errors)
    print("OK token", flush=True)


try:
    if "token" in config:
        token_scenario()
        sys.exit(0)
    # 1. The overview shows the leader.
    started = time.monotonic()
    driver.get(base + "/ui/")
    wait_for("the overview's leader card", lambda: text_of("[data-card=leader] .value") == "node %d" % config["leader"])
    wait_for("the stream to be live", lambda: text_of("#stream-status") == "live")
    print("overview shows leader node %d after %.2f s" % (config["leader"], time.monotonic() - started), flush=True)
    driver.save_screenshot(os.path.join(shots, "overview.png"))

    # Data is text: a workflow description full of markup shows as itself, nothing is injected.
    driver.get(base + "/ui/#/workflows")
    markup = "<img src=x id=injected onerror=alert(1)><b>bold</b>"
    wait_for("the workflow list", lambda: markup in text_of("main table"))
    if driver.find_elements(By.ID, "injected") or driver.find_elements(By.CSS_SELECTOR, "main b"):
        fail("markup in a description became elements")
    print("markup in data shows as text", flush=True)

    # Schedules: the seeded workflow's cron trigger with its next fire time (in its zone, with
    # the offset), and the armed state timeout of its instance, linked to the instance page.
    driver.get(base + "/ui/#/schedules")
    trigger = config["trigger"]
    row = wait_for("the trigger %s/%s in the schedules view" % (trigger["workflow"], trigger["name"]),
                   lambda: [[cell.text for cell in tr.find_elements(By.TAG_NAME, "td")]
                            for tr in driver.find_elements(By.CSS_SELECTOR, "#trigger-table tbody tr")
                            if tr.find_elements(By.TAG_NAME, "td")[1].text == trigger["name"]])[0]
    if row[0] != trigger["workflow"] or row[2] != trigger["cron"] or row[3] != trigger["timezone"]:
        fail("the trigger row reads %s" % row)
    if not re.fullmatch(trigger["next_fire"], row[5]):
        fail("the trigger's next fire time is %r, not like %s" % (row[5], trigger["next_fire"]))
    if row[8] != "0":
        fail("the trigger shows %s fired" % row[8])
    timeout_link = "#timeout-table a[href='#/instances/%s']" % trigger["instance"]
    wait_for("the armed timeout of %s" % trigger["instance"], lambda: driver.find_element(By.CSS_SELECTOR, timeout_link))
    if not text_of("#timeout-count").endswith("of 1 armed"):
        fail("the timeout count reads %r" % text_of("#timeout-count"))
    driver.save_screenshot(os.path.join(shots, "schedules.png"))
    # Live: a second instance arms a second timeout; the open view shows it from the stream.
    wait_for("the stream to be live on the schedules view", lambda: text_of("#stream-status") == "live")
    cli("start", trigger["workflow"], "--id", trigger["instance"] + "-live")
    wait_for("the new timeout on the open view",
             lambda: text_of("#timeout-count").endswith("of 2 armed")
             and driver.find_elements(By.CSS_SELECTOR, "#timeout-table a[href='#/instances/%s-live']" % trigger["instance"]),
             timeout=3.0)
    click(timeout_link)
    wait_for("the instance page from the timeout's link", lambda: text_of("#instance-state") == "waiting")
    print("schedules: trigger %s next fires at %s; a new timeout showed live; the timeout links to its instance"
          % (trigger["name"], row[5]), flush=True)
    errors = console_errors()
    if errors:
        fail("console errors on the schedules view: %s" % errors)

    # The instances filter's "updated since": a time after every update lists none; one
    # before them all lists every instance.
    for since, expected in [("2099-01-01T00:00:00Z", "0 shown"), ("2000-01-01T01:00:00+01:00", "%d shown" % (config["total"] + 1))]:
        driver.get(base + "/ui/#/instances")
        type_and_submit("#filters input[name=since]", since, "#filters button[type=submit]", "since=")
        wait_for("%s updated since %s" % (expected, since),
                 lambda: "since=" in driver.current_url and text_of("#shown-count") == expected)
    print("updated since filters the instance list", flush=True)

    # 2. A state's badge shows its count; clicking it lists exactly those instances.
    driver.get(base + "/ui/#/workflows/cookbook")
    for state, count in config["counts"].items():
        wait_for("the badge of %s to say %d" % (state, count),
                 lambda: text_of("#diagram .badge[data-state='%s'] text" % state) == str(count))
    print("badges: %s" % config["counts"], flush=True)
    driver.save_screenshot(os.path.join(shots, "workflow.png"))
    click("#diagram .badge[data-state='first']")
    wait_for("the filtered list", lambda: "state=first" in driver.current_url
             and len(driver.find_elements(By.CSS_SELECTOR, "#instance-table tbody tr")) == config["counts"]["first"])
    states = wait_for("the listed states", lambda: [row.find_elements(By.TAG_NAME, "td")[3].text
                                                    for row in driver.find_elements(By.CSS_SELECTOR, "#instance-table tbody tr")])
    if set(states) != {"first"}:
        fail("the list filtered to 'first' shows states %s" % states)
    print("clicking the badge listed %d instances, all in first" % len(states), flush=True)
    driver.save_screenshot(os.path.join(shots, "instances.png"))

    # 3. A transition submitted from the CLI shows on the open page within 2 s, over SSE.
    instance = config["instance"]
    driver.get(base + "/ui/#/instances/" + instance)
    wait_for("the instance page", lambda: text_of("#instance-state") == "first")
    wait_for("the stream to be live", lambda: text_of("#stream-status") == "live")
    time.sleep(1.2)  # past the refetch the page did when it opened, so the next one is the event's
    submitted = time.monotonic()
    cli("submit", instance, "second")
    wait_for("the new state on the page", lambda: text_of("#instance-state") == "second", timeout=2.0)
    latency = time.monotonic() - submitted
    current = wait_for("the highlighted state", lambda: [c.get_attribute("data-state")
                                                         for c in driver.find_elements(By.CSS_SELECTOR, "#diagram .state.current")])
    if current != ["second"]:
        fail("the diagram highlights %s, not second" % current)
    print("CLI submit showed on the page in %.2f s (CLI included)" % latency, flush=True)
    driver.save_screenshot(os.path.join(shots, "instance.png"))

    # Paused, the page neither reads the stream nor refetches; resumed, it catches up.
    click("#live-toggle")
    wait_for("the paused state", lambda: text_of("#stream-status") == "paused")
    cli("submit", instance, "third")
    time.sleep(1.5)
    if text_of("#instance-state") != "second":
        fail("a paused page changed: %s" % text_of("#instance-state"))
    click("#live-toggle")
    wait_for("the page to catch up after resuming", lambda: text_of("#instance-state") == "third", timeout=3.0)
    wait_for("the stream to be live again", lambda: text_of("#stream-status") == "live")
    print("paused, the page stood still; resumed, it caught up", flush=True)

    # 4. Behind a reverse proxy with a path prefix.
    prefix_scenario()

    errors = console_errors()
    if errors:
        fail("console errors before the failover: %s" % errors)

    # 5. Killing the leader (SIGKILL) shows the new one.
    driver.get(base + "/ui/#/")
    wait_for("the overview again", lambda: text_of("[data-card=leader] .value") == "node %d" % config["leader"])
    killed = time.monotonic()
    os.kill(config["leader_pid"], signal.SIGKILL)
    new_leader = wait_for("a new leader on the page",
                          lambda: (lambda t: t if t.startswith("node ") and t != "node %d" % config["leader"] else None)(
                              text_of("[data-card=leader] .value")), timeout=15.0)
    print("after SIGKILL of node %d the page shows %s in %.2f s" % (config["leader"], new_leader, time.monotonic() - killed),
          flush=True)
    time.sleep(0.5)
    driver.save_screenshot(os.path.join(shots, "failover.png"))
    errors = console_errors(ignore_network_failures=True)
    if errors:
        fail("script errors in the console: %s" % errors)
    print("OK new_leader=%s latency=%.3f" % (new_leader.split()[1], latency), flush=True)
finally:
    driver.quit()
