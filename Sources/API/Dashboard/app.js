// The orchestrator dashboard: plain JavaScript, no build step, nothing fetched but this
// node's API. Every URL is relative (works behind a path prefix); all data is inserted with
// textContent, never as HTML. Live updates come from GET /v1/events, read with fetch so an
// Authorization header can be sent; what they change is refetched at most once a second.
"use strict";

(function () {
  const API = new URL("../v1/", location.href);
  const TOKEN_KEY = "orchestrator.token";
  const REFRESH_MILLIS = 1000;
  const state = {
    live: true,
    lastEventID: null,
    stream: null,          // AbortController of the open stream
    refreshTimer: null,
    lastRefresh: 0,
    render: null,          // the current view's refresh function
    interest: null,        // (change) => whether the current view shows it
    feed: [],              // recent changes, newest first
    node: null,
    leaderSeen: null,      // "leader/term" of the last leader event
  };

  // ---- small DOM helpers (text only) ----
  function h(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "class") node.className = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }
  const view = () => document.getElementById("view");
  function show(...nodes) { view().replaceChildren(...nodes.filter((n) => n !== null && n !== undefined && n !== false)); }
  function message(text, kind) {
    const box = document.getElementById("message");
    box.textContent = text || "";
    box.className = kind || "";
    box.hidden = !text;
  }
  function link(hash, label, attrs) { return h("a", Object.assign({ href: hash }, attrs || {}), label); }
  function query(params) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") q.set(k, v);
    const s = q.toString();
    return s ? "?" + s : "";
  }
  function table(headers, rows, options) {
    options = options || {};
    const head = h("tr", {}, headers.map((label, i) => {
      const numeric = options.numeric && options.numeric.includes(i);
      const th = h("th", { class: (numeric ? "num " : "") + (options.sortable ? "sortable" : "") }, label);
      if (options.sortable) th.addEventListener("click", () => sortTable(th, i, numeric));
      return th;
    }));
    const body = rows.map((cells) => h("tr", {}, cells.map((cell, i) =>
      h("td", { class: options.numeric && options.numeric.includes(i) ? "num" : null }, cell))));
    return h("table", {}, h("thead", {}, head), h("tbody", {}, body));
  }
  function sortTable(th, column, numeric) {
    const tbody = th.closest("table").querySelector("tbody");
    const ascending = !th.classList.contains("sorted-asc");
    th.parentElement.querySelectorAll("th").forEach((x) => x.classList.remove("sorted-asc", "sorted-desc"));
    th.classList.add(ascending ? "sorted-asc" : "sorted-desc");
    const rows = Array.from(tbody.rows);
    const key = (row) => row.cells[column].textContent;
    rows.sort((a, b) => {
      const x = key(a), y = key(b);
      const order = numeric ? Number(x) - Number(y) : x.localeCompare(y, undefined, { numeric: true });
      return ascending ? order : -order;
    });
    tbody.replaceChildren(...rows);
  }

  // ---- the API ----
  class AuthRequired extends Error {}
  function authHeaders() {
    const token = sessionStorage.getItem(TOKEN_KEY);
    return token ? { Authorization: "Bearer " + token } : {};
  }
  async function api(path, options) {
    options = options || {};
    const response = await fetch(new URL(path, API), {
      method: options.method || "GET",
      headers: Object.assign({ Accept: "application/json" }, authHeaders(),
        options.body ? { "Content-Type": "application/json" } : {}),
      body: options.body ? JSON.stringify(options.body) : undefined,
      cache: "no-store",
    });
    if (response.status === 401) { askForToken(); throw new AuthRequired("a token is needed"); }
    const text = await response.text();
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch (_) { json = null; }
    if (!response.ok) {
      const error = new Error(json && json.error ? `${json.error.code}: ${json.error.message}` : `HTTP ${response.status}`);
      error.status = response.status;
      throw error;
    }
    return json;
  }
  function askForToken() {
    document.getElementById("token-panel").hidden = false;
    setStreamStatus("token needed", "down");
    document.getElementById("token-input").focus();
  }

  // ---- live updates: GET /v1/events read with fetch ----
  function setStreamStatus(text, kind) {
    const pill = document.getElementById("stream-status");
    pill.textContent = text;
    pill.className = "pill " + (kind || "");
  }
  async function openStream() {
    if (state.stream || !state.live) return;
    const controller = new AbortController();
    state.stream = controller;
    try {
      const headers = Object.assign({ Accept: "text/event-stream" }, authHeaders());
      if (state.lastEventID !== null) headers["Last-Event-ID"] = String(state.lastEventID);
      const response = await fetch(new URL("events", API), { headers, signal: controller.signal, cache: "no-store" });
      if (response.status === 401) { askForToken(); state.stream = null; return; }
      if (!response.ok || !response.body) throw new Error("HTTP " + response.status);
      setStreamStatus("live", "live");
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          handleBlock(block);
        }
      }
      throw new Error("the stream ended");
    } catch (error) {
      if (controller.signal.aborted) return;
      setStreamStatus("reconnecting", "down");
      state.stream = null;
      // Another node may answer by then (a load balancer); resume where we were.
      setTimeout(() => { scheduleRefresh(); openStream(); }, 2000);
      return;
    }
  }
  function closeStream() {
    if (state.stream) state.stream.abort();
    state.stream = null;
  }
  function handleBlock(block) {
    let event = "message", data = "", id = null;
    for (const line of block.split("\n")) {
      if (line.startsWith(":")) continue;             // a comment: the heartbeat
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "event") event = value;
      else if (field === "data") data += (data ? "\n" : "") + value;
      else if (field === "id") id = value;
    }
    if (id !== null && /^\d+$/.test(id)) state.lastEventID = id;
    if (!data) return;
    const payload = JSON.parse(data);
    if (event === "change") {
      let relevant = false;
      for (const change of payload.changes) {
        state.feed.unshift({ index: payload.index, change });
        if (!state.interest || state.interest(change)) relevant = true;
      }
      state.feed.length = Math.min(state.feed.length, 50);
      if (relevant) scheduleRefresh();
    } else if (event === "leader") {
      // Every stream opens with the current view; only a change is worth a refetch.
      const seen = `${payload.leader}/${payload.term}`;
      if (state.leaderSeen !== null && state.leaderSeen !== seen) scheduleRefresh();
      state.leaderSeen = seen;
    } else if (event === "reset") {
      scheduleRefresh();
    } else if (event === "dropped") {
      message("The event stream was dropped: " + payload.reason, "");
      closeStream();
      setTimeout(() => { openStream(); scheduleRefresh(); }, 1000);
    }
  }
  // At most one refetch a second: the first change refetches at once, the ones that follow
  // within the second are folded into one refetch at its end.
  function scheduleRefresh() {
    if (!state.live || state.refreshTimer) return;
    const wait = Math.max(0, state.lastRefresh + REFRESH_MILLIS - Date.now());
    state.refreshTimer = setTimeout(() => {
      state.refreshTimer = null;
      state.lastRefresh = Date.now();
      refresh();
    }, wait);
  }
  async function refresh() {
    if (!state.render) return;
    try {
      await state.render();
      if (document.getElementById("message").textContent.startsWith("Could not load")) message("");
    } catch (error) {
      if (!(error instanceof AuthRequired)) message("Could not load: " + error.message);
    }
  }

  // ---- views ----
  function describe(change) {
    switch (change.type) {
      case "instance_moved": return `${change.instance} ${change.from} → ${change.to} (${change.transition})`;
      case "instance_started": return `${change.instance} started in ${change.state} (${change.workflow} v${change.version})`;
      case "instance_finished": return `${change.instance} finished in ${change.state}`;
      case "instance_purged": return `${change.instance} purged`;
      case "workflow_registered": return `workflow ${change.workflow} v${change.version} registered`;
      case "dispatch_recorded": return `hook ${change.plugin} recorded for ${change.instance} (${change.dispatch})`;
      case "dispatch_retry": return `hook ${change.dispatch} of ${change.instance} retries (attempt ${change.attempt})`;
      case "dispatch_finished": return `hook ${change.dispatch} of ${change.instance} ${change.succeeded ? "succeeded" : "failed"}`;
      default: return change.type;
    }
  }

  async function overview() {
    const [health, cluster, stats, failed] = await Promise.all([
      api("health"), api("cluster"), api("stats?stale=true"), api("dispatches?state=failed&stale=true")]);
    const leader = cluster.members.find((m) => m.is_leader);
    const last = Math.max(...cluster.members.map((m) => m.match_index || 0), cluster.commit_index);
    const cards = h("div", { class: "cards" },
      card("Leader", leader ? `node ${leader.id}` : "none", "leader"),
      card("Term", cluster.term),
      card("This node", `node ${health.node} (${health.role})`),
      card("Commit / applied", `${health.commit_index} / ${health.applied_index}`),
      card("Instances", stats.total, "total"));
    const members = table(["Node", "API", "Role", "Leader", "Match index", "Lag", "Live"],
      cluster.members.map((m) => [String(m.id), m.api, m.role, m.is_leader ? "leader" : "",
        m.match_index === null ? "?" : String(m.match_index),
        m.match_index === null ? "?" : String(Math.max(0, last - m.match_index)), m.live === null ? "?" : (m.live ? "yes" : "no")]),
      { numeric: [4, 5] });
    const counts = h("div", {}, stats.workflows.map((w) => h("div", {},
      h("h3", {}, link("#/workflows/" + encodeURIComponent(w.name), w.name), ` v${w.version} — ${w.total} instances, ${w.finished} finished`),
      table(Object.keys(w.states).sort(), [Object.keys(w.states).sort().map((s) =>
        link("#/instances" + query({ workflow: w.name, state: s }), String(w.states[s]), { "data-count": w.states[s] }))]))));
    const failures = failed.dispatches.length
      ? table(["Dispatch", "Instance", "Plugin", "Result"], failed.dispatches.slice(-20).reverse().map((d) =>
        [d.id, link("#/instances/" + encodeURIComponent(d.instance), d.instance), d.plugin, d.result || ""]))
      : h("p", { class: "muted" }, "No failed hooks.");
    const feed = h("div", { class: "feed", id: "feed" }, state.feed.length
      ? state.feed.slice(0, 30).map((f) => h("div", {}, `#${f.index} ${describe(f.change)}`))
      : h("div", { class: "muted" }, "Changes appear here as they are applied."));
    show(h("h1", {}, "Overview"), cards, h("h2", {}, "Members"), members,
      h("div", { class: "split" },
        h("div", {}, h("h2", {}, "Instances by workflow and state"), counts),
        h("div", {}, h("h2", {}, "Recent failures (hooks)"), failures, h("h2", {}, "Recent changes"), feed)));
  }
  function card(label, value, name) {
    return h("div", { class: "card", "data-card": name }, h("div", { class: "label" }, label), h("div", { class: "value" }, String(value)));
  }

  async function workflows() {
    const [list, stats] = await Promise.all([api("workflows"), api("stats?stale=true")]);
    const byName = new Map(stats.workflows.map((w) => [w.name, w]));
    show(h("h1", {}, "Workflows"), table(["Name", "Version", "States", "Instances", "Finished", "Description"],
      list.workflows.map((w) => [link("#/workflows/" + encodeURIComponent(w.name), w.name), String(w.version),
        String(w.states.length), String(byName.get(w.name) ? byName.get(w.name).total : 0),
        String(byName.get(w.name) ? byName.get(w.name).finished : 0), w.description || ""]), { numeric: [1, 2, 3, 4], sortable: true }));
  }

  async function workflow(name) {
    const [info, stats] = await Promise.all([api("workflows/" + encodeURIComponent(name)), api("stats?stale=true")]);
    const counts = (stats.workflows.find((w) => w.name === name) || { states: {} }).states;
    const svg = Diagram.draw(info, {
      counts,
      onState: (s) => { location.hash = "#/instances" + query({ workflow: name, state: s }); },
    });
    show(h("h1", {}, `Workflow ${info.name} v${info.version}`),
      info.description ? h("p", {}, info.description) : null,
      h("div", { class: "diagram", id: "diagram" }, svg),
      h("p", { class: "muted" }, "The badge on each state counts its instances; click a state to list them."),
      h("h2", {}, "Versions"),
      table(["Version", "Hash", "Log index", "Registered"], info.versions.map((v) =>
        [String(v.version), v.hash.slice(0, 12), String(v.index), v.registered_at])));
  }

  async function instances(params) {
    const [list, workflowList] = await Promise.all([
      api("instances" + query({ workflow: params.workflow, state: params.state, id_prefix: params.prefix,
        updated_since: params.since, cursor: params.cursor, limit: params.limit || 50, stale: "true" })),
      api("workflows")]);
    const form = h("form", { class: "filters", id: "filters" },
      h("label", {}, "Workflow", h("select", { name: "workflow" }, h("option", { value: "" }, "any"),
        list && workflowList.workflows.map((w) => h("option", { value: w.name, selected: w.name === params.workflow }, w.name)))),
      h("label", {}, "State", h("input", { name: "state", value: params.state || "", size: 12 })),
      h("label", {}, "Id prefix", h("input", { name: "prefix", value: params.prefix || "", size: 12 })),
      h("label", { title: "RFC 3339, e.g. 2026-12-04T16:00:00Z or 2026-12-04T17:00:00+01:00" }, "Updated since",
        h("input", { name: "since", value: params.since || "", size: 22, placeholder: "2026-12-04T16:00:00Z" })),
      h("button", { type: "submit", class: "primary" }, "Filter"));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const data = new FormData(form);
      location.hash = "#/instances" + query({ workflow: data.get("workflow"), state: data.get("state"), prefix: data.get("prefix"),
        since: data.get("since").trim() });
    });
    const rows = list.instances.map((i) => [link("#/instances/" + encodeURIComponent(i.id), i.id), i.workflow, String(i.version),
      i.state, String(i.revision), i.updated_at]);
    const pager = h("div", { class: "pager" },
      params.cursor ? link("#/instances" + query(Object.assign({}, params, { cursor: null })), "First page") : null,
      list.next_cursor ? link("#/instances" + query(Object.assign({}, params, { cursor: list.next_cursor })), "Next page") : null,
      h("span", { class: "muted", id: "shown-count" }, `${list.instances.length} shown`));
    show(h("h1", {}, "Instances"), form,
      table(["Id", "Workflow", "Version", "State", "Revision", "Updated"], rows, { numeric: [2, 4], sortable: true }), pager);
    const table_ = view().querySelector("table");
    table_.id = "instance-table";
  }

  async function instance(id) {
    const [info, history] = await Promise.all([api("instances/" + encodeURIComponent(id)),
      api("instances/" + encodeURIComponent(id) + "/history")]);
    const definition = await api("workflows/" + encodeURIComponent(info.workflow));
    const visited = new Set(), taken = new Set();
    for (const entry of history.entries) {
      if (entry.type !== "hook" && entry.to) visited.add(entry.to);
      if (entry.type === "transition" && entry.from && entry.to) taken.add(entry.from + "\u0000" + entry.to + "\u0000" + entry.transition);
    }
    const svg = Diagram.draw(definition, { current: info.state, visited, taken });
    const allowed = definition.transitions.filter((t) => !info.final && (t.from.includes(info.state) || t.from.includes("*")));
    const result = h("span", { class: "muted", id: "action-result" });
    const actions = h("div", { class: "actions" }, allowed.length ? allowed.map((t) => h("button", {
      type: "button", "data-transition": t.name,
      onclick: async () => {
        result.textContent = `${t.name}…`;
        try {
          const moved = await api("instances/" + encodeURIComponent(id) + "/transitions",
            { method: "POST", body: { transition: t.name, expect: info.state } });
          result.textContent = `${moved.from} → ${moved.to} at index ${moved.index}`;
          scheduleRefresh();
        } catch (error) { result.textContent = error.message; result.className = "bad"; }
      },
    }, `${t.name} → ${t.to}`)) : h("span", { class: "muted" }, info.final ? "Finished: no transitions." : "No transition leaves this state."), result);
    const failuresOnly = sessionStorage.getItem("orchestrator.failuresOnly") === "1";
    const toggle = h("label", {}, h("input", { type: "checkbox", id: "failures-only", checked: failuresOnly,
      onchange: (event) => { sessionStorage.setItem("orchestrator.failuresOnly", event.target.checked ? "1" : "0"); refresh(); } }),
      " failures only");
    const entries = history.entries.slice().reverse().filter((e) => !failuresOnly || isFailure(e));
    const timeline = h("ol", { class: "timeline", id: "timeline" }, entries.map(timelineItem));
    show(h("h1", {}, `Instance ${info.id}`),
      h("div", { class: "cards" }, card("Workflow", `${info.workflow} v${info.version}`),
        h("div", { class: "card", "data-card": "state" }, h("div", { class: "label" }, "State"),
          h("div", { class: "value", id: "instance-state" }, info.state)),
        card("Revision", info.revision), card("Updated", info.updated_at)),
      h("div", { class: "diagram", id: "diagram" }, svg),
      h("h2", {}, "Transitions"), actions,
      h("h2", {}, "History ", toggle),
      history.dropped ? h("p", { class: "muted" }, `${history.dropped} older entries were dropped by the history limits.`) : null,
      entries.length ? timeline : h("p", { class: "muted" }, "Nothing to show."));
  }
  function isFailure(entry) {
    // Only hook attempts can fail: a rejected transition is never applied, so never in history.
    return Boolean(entry.hook) && entry.hook.result !== "succeeded";
  }
  function timelineItem(entry) {
    const what = entry.type === "transition" ? `${entry.from} → ${entry.to} (${entry.transition})`
      : entry.type === "start" ? `started in ${entry.to}` : entry.hook ? `hook ${entry.hook.plugin} (${entry.hook.stage})` : entry.type;
    const actor = entry.actor ? (entry.actor.name || entry.actor.token) : null;
    const hook = entry.hook;
    const cls = hook ? (isFailure(entry) ? "failure" : "success") : "";
    return h("li", { class: cls },
      h("div", {}, what),
      h("div", { class: "meta" }, `index ${entry.index} · ${entry.at}` + (actor ? ` · by ${actor}` : "")
        + (entry.cause ? ` · ${entry.cause}` : "")
        + (hook ? ` · attempt ${hook.attempt} · ${hook.result}` + (hook.exit_code !== null ? ` · exit ${hook.exit_code}` : "")
          + (hook.signal !== null ? ` · signal ${hook.signal}` : "") + ` · ${hook.duration_ms} ms` : "")
        + (hook && hook.note ? ` · ${hook.note}` : "")),
      hook && hook.stdout ? h("pre", { title: "stdout" }, "stdout: " + tail(hook.stdout)) : null,
      hook && hook.stderr ? h("pre", { title: "stderr", class: isFailure(entry) ? "bad" : null }, "stderr: " + tail(hook.stderr)) : null);
  }
  function tail(text) { return text.length > 2000 ? "…" + text.slice(-2000) : text; }

  async function clusterView() {
    const cluster = await api("cluster");
    const last = Math.max(...cluster.members.map((m) => m.match_index || 0), cluster.commit_index);
    const select = h("select", { id: "transfer-to" }, cluster.members.filter((m) => !m.is_leader && m.role === "voter")
      .map((m) => h("option", { value: m.id }, `node ${m.id}`)));
    const result = h("span", { class: "muted", id: "transfer-result" });
    const transfer = h("button", { type: "button", onclick: async () => {
      result.textContent = "transferring…";
      try {
        await api("cluster/transfer-leader", { method: "POST", body: { to: Number(select.value) } });
        result.textContent = `node ${select.value} leads now`;
        scheduleRefresh();
      } catch (error) { result.textContent = error.message; result.className = "bad"; }
    } }, "Transfer leadership");
    show(h("h1", {}, "Cluster"),
      h("div", { class: "cards" }, card("Leader", cluster.leader === null ? "none" : `node ${cluster.leader}`, "leader"),
        card("Term", cluster.term), card("Commit index", cluster.commit_index), card("Applied (answering node)", cluster.applied_index)),
      h("h2", {}, "Members"),
      table(["Node", "API", "Raft", "Role", "Leader", "Match index", "Lag", "Live"], cluster.members.map((m) => [String(m.id), m.api, m.raft,
        m.role, m.is_leader ? "leader" : "", m.match_index === null ? "?" : String(m.match_index),
        m.match_index === null ? "?" : String(Math.max(0, last - m.match_index)), m.live === null ? "?" : (m.live ? "yes" : "no")]),
      { numeric: [5, 6] }),
      h("h2", {}, "Leadership"),
      select.options.length ? h("div", { class: "actions" }, select, transfer, result) : h("p", { class: "muted" }, "No other voter to hand leadership to."),
      h("p", { class: "muted" }, "Transferring leadership needs an admin token when tokens are on."));
  }

  // Cron triggers, the armed state timeouts due first, and hook runs (running, pending, failed).
  async function schedules() {
    const [triggers, timeouts, dispatches] = await Promise.all([
      api("triggers?stale=true"), api("timeouts?limit=50&stale=true"), api("dispatches?stale=true")]);
    const instanceLink = (id) => link("#/instances/" + encodeURIComponent(id), id);
    const triggerTable = triggers.triggers.length
      ? table(["Workflow", "Trigger", "Schedule", "Zone", "Action", "Next fire", "Last slot", "Last instance", "Fired", "Skipped", "Missed"],
        triggers.triggers.map((t) => [link("#/workflows/" + encodeURIComponent(t.workflow), t.workflow), t.name, t.cron, t.timezone,
          t.action === "start" ? "start an instance" : `${t.transition}` + (t.where ? ` where state is ${t.where}` : ""),
          t.next_fire_at || "none", t.last_slot_at || "never", t.last_instance ? instanceLink(t.last_instance) : "",
          String(t.fired), String(t.skipped), String(t.missed)]), { numeric: [8, 9, 10], sortable: true })
      : h("p", { class: "muted" }, "No workflow has a cron trigger.");
    if (triggers.triggers.length) triggerTable.id = "trigger-table";
    const timeoutTable = timeouts.timeouts.length
      ? table(["Instance", "Workflow", "State", "Due", "Transition"], timeouts.timeouts.map((t) =>
        [instanceLink(t.instance), t.workflow, t.state, t.due_at, t.transition]))
      : h("p", { class: "muted" }, "No state timeout is armed.");
    if (timeouts.timeouts.length) timeoutTable.id = "timeout-table";
    const byState = (name) => dispatches.dispatches.filter((d) => d.state === name);
    const running = byState("running"), pending = byState("pending");
    const failed = byState("failed").slice(-20).reverse();
    const hookTable = (rows, headers, cells, id, empty) => {
      if (!rows.length) return h("p", { class: "muted" }, empty);
      const node = table(headers, rows.map(cells));
      node.id = id;
      return node;
    };
    show(h("h1", {}, "Schedules"),
      h("div", { class: "cards" }, card("Cron triggers", triggers.triggers.length, "triggers"),
        card("Armed timeouts", timeouts.total, "timeouts"), card("Hooks running", running.length, "running"),
        card("Hooks pending", pending.length, "pending")),
      h("h2", {}, "Cron triggers"), triggerTable,
      h("h2", {}, "State timeouts due first"),
      h("p", { class: "muted", id: "timeout-count" }, `${timeouts.timeouts.length} shown of ${timeouts.total} armed`), timeoutTable,
      h("h2", {}, "Hook runs"),
      h("h3", {}, "Running"), hookTable(running, ["Dispatch", "Instance", "Plugin", "Stage", "Transition", "Attempt"],
        (d) => [d.id, instanceLink(d.instance), d.plugin, d.stage, d.transition, String(d.attempt)], "dispatch-running", "None running."),
      h("h3", {}, "Pending"), hookTable(pending, ["Dispatch", "Instance", "Plugin", "Stage", "Transition", "Due", "Attempt"],
        (d) => [d.id, instanceLink(d.instance), d.plugin, d.stage, d.transition, d.due_at || "", String(d.attempt)],
        "dispatch-pending", "None pending."),
      h("h3", {}, "Recently failed"), hookTable(failed, ["Dispatch", "Instance", "Plugin", "Stage", "Transition", "Attempt", "Result"],
        (d) => [d.id, instanceLink(d.instance), d.plugin, d.stage, d.transition, String(d.attempt), d.result || ""],
        "dispatch-failed", "No failed hooks."));
  }

  // ---- routing (#/path?query) ----
  function route() {
    const [path, search] = (location.hash.slice(1) || "/").split("?");
    const params = Object.fromEntries(new URLSearchParams(search || ""));
    const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
    let section = parts[0] || "overview";
    document.querySelectorAll("header nav a").forEach((a) => a.classList.toggle("active", a.dataset.view === section));
    state.interest = null;
    if (section === "workflows" && parts[1]) {
      state.render = () => workflow(parts[1]);
      state.interest = (c) => c.workflow === parts[1] || c.type === "workflow_registered";
    } else if (section === "workflows") {
      state.render = workflows;
    } else if (section === "instances" && parts[1]) {
      state.render = () => instance(parts[1]);
      state.interest = (c) => c.instance === parts[1] || c.type === "workflow_registered";
    } else if (section === "instances") {
      state.render = () => instances(params);
    } else if (section === "schedules") {
      state.render = schedules;
    } else if (section === "cluster") {
      state.render = clusterView;
    } else {
      state.render = overview;
    }
    state.lastRefresh = Date.now();
    refresh();
  }

  function setLive(live) {
    state.live = live;
    const button = document.getElementById("live-toggle");
    button.textContent = live ? "Pause" : "Resume";
    if (live) { openStream(); scheduleRefresh(); } else { closeStream(); setStreamStatus("paused", "paused"); }
  }

  async function start() {
    document.getElementById("live-toggle").addEventListener("click", () => setLive(!state.live));
    document.getElementById("token-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const value = document.getElementById("token-input").value.trim();
      if (value) sessionStorage.setItem(TOKEN_KEY, value); else sessionStorage.removeItem(TOKEN_KEY);
      document.getElementById("token-input").value = "";
      document.getElementById("token-panel").hidden = true;
      closeStream();
      openStream();
      route();
      nodeBadge();
    });
    window.addEventListener("hashchange", route);
    route();
    nodeBadge();
    openStream();
  }
  async function nodeBadge() {
    try {
      const health = await api("health");
      document.getElementById("node-badge").textContent = `node ${health.node}`;
    } catch (_) { /* the view shows the error */ }
  }

  start();
})();
