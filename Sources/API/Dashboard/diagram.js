// State diagrams as SVG, laid out here (no library): states are ranked by breadth-first
// search from the initial state, one column per rank; transitions to a later rank are
// curves between columns, between two states of one column a short bowed curve, back edges
// (to an earlier rank) are routed below every state, and a transition to its own state is
// a loop above it. Meant for the small
// machines people write (tens of states). Every label is set with textContent.
"use strict";

(function () {
  const NS = "http://www.w3.org/2000/svg";
  const NODE_H = 36, GAP_X = 90, GAP_Y = 34, PAD = 30, LOOP_SPACE = 34;
  let diagramCount = 0;

  function el(name, attrs, parent) {
    const node = document.createElementNS(NS, name);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, String(value));
    if (parent) parent.appendChild(node);
    return node;
  }

  function text(parent, x, y, content, attrs) {
    const node = el("text", Object.assign({ x, y }, attrs || {}), parent);
    node.textContent = content;
    return node;
  }

  // Transitions as edges from one state to another; `*` means every non-final state.
  function edgesOf(workflow) {
    const nonFinal = workflow.states.filter((s) => !s.final).map((s) => s.name);
    const edges = [];
    for (const t of workflow.transitions) {
      const sources = t.from.includes("*") ? nonFinal : t.from;
      for (const from of sources) edges.push({ name: t.name, from, to: t.to });
    }
    return edges;
  }

  // Rank of each state: its BFS distance from the initial state; unreachable states after.
  function ranks(workflow, edges) {
    const rank = new Map([[workflow.initial, 0]]);
    const queue = [workflow.initial];
    while (queue.length) {
      const state = queue.shift();
      for (const e of edges) {
        if (e.from === state && !rank.has(e.to)) { rank.set(e.to, rank.get(state) + 1); queue.push(e.to); }
      }
    }
    let next = rank.size ? Math.max(...rank.values()) + 1 : 0;
    for (const s of workflow.states) if (!rank.has(s.name)) rank.set(s.name, next);
    return rank;
  }

  // options: counts {state: n} (badges), current, visited (Set of states),
  // taken (Set of "from\u0000to\u0000transition"), onState(name) (click).
  function draw(workflow, options) {
    options = options || {};
    const id = "d" + (++diagramCount);
    const edges = edgesOf(workflow);
    const rank = ranks(workflow, edges);
    const columns = [];
    for (const s of workflow.states) {
      const r = rank.get(s.name);
      (columns[r] = columns[r] || []).push(s);
    }
    const width = (s) => Math.max(96, s.name.length * 8 + 30);
    const colWidth = columns.map((col) => Math.max(...(col || []).map(width), 96));
    const rows = Math.max(...columns.map((col) => (col || []).length), 1);
    const place = new Map();
    let x = PAD;
    columns.forEach((col, r) => {
      col = col || [];
      const offset = ((rows - col.length) * (NODE_H + GAP_Y)) / 2;
      col.forEach((s, i) => {
        const w = width(s);
        place.set(s.name, { x: x + (colWidth[r] - w) / 2, y: PAD + LOOP_SPACE + offset + i * (NODE_H + GAP_Y), w, h: NODE_H, state: s });
      });
      x += colWidth[r] + GAP_X;
    });
    const statesBottom = PAD + LOOP_SPACE + rows * (NODE_H + GAP_Y) - GAP_Y;
    const backEdges = edges.filter((e) => e.from !== e.to && rank.get(e.to) < rank.get(e.from));
    const svgWidth = x - GAP_X + PAD;
    const svgHeight = statesBottom + PAD + (backEdges.length ? 40 + backEdges.length * 18 : 0);

    const svg = el("svg", { xmlns: NS, width: svgWidth, height: svgHeight, viewBox: `0 0 ${svgWidth} ${svgHeight}`,
      role: "img", "aria-label": "state diagram of " + workflow.name });
    const defs = el("defs", {}, svg);
    for (const [suffix, cls] of [["", "arrow"], ["-taken", "arrow-taken"]]) {
      // In user space, so a highlighted (thicker) edge keeps the same arrowhead.
      const marker = el("marker", { id: id + "-arrow" + suffix, viewBox: "0 0 10 10", refX: 9, refY: 5,
        markerWidth: 9, markerHeight: 9, markerUnits: "userSpaceOnUse", orient: "auto-start-reverse" }, defs);
      el("path", { d: "M0,0 L10,5 L0,10 z", class: cls }, marker);
    }

    const edgeLayer = el("g", { class: "edges" }, svg);
    const pairCount = new Map();
    let backIndex = 0;
    for (const e of edges) {
      const a = place.get(e.from), b = place.get(e.to);
      if (!a || !b) continue;
      const pair = e.from + "\u0000" + e.to;
      const k = pairCount.get(pair) || 0;
      pairCount.set(pair, k + 1);
      const taken = options.taken && options.taken.has(e.from + "\u0000" + e.to + "\u0000" + e.name);
      const g = el("g", { class: "edge" + (taken ? " taken" : "") }, edgeLayer);
      let d, lx, ly, side = false;
      if (e.from === e.to) {
        const cx = a.x + a.w / 2 + k * 14, top = a.y;
        d = `M${cx - 12},${top} C${cx - 30},${top - 36} ${cx + 30},${top - 36} ${cx + 12},${top}`;
        lx = cx; ly = top - 30;
      } else if (rank.get(e.to) > rank.get(e.from)) {
        const sx = a.x + a.w, sy = a.y + a.h / 2 + k * 8, tx = b.x, ty = b.y + b.h / 2 + k * 8;
        const mx = (sx + tx) / 2;
        d = `M${sx},${sy} C${mx},${sy} ${mx},${ty} ${tx},${ty}`;
        lx = mx; ly = (sy + ty) / 2 - 5;
      } else if (rank.get(e.to) === rank.get(e.from)) {
        // The same column: a short curve from one state to the other, bowed to the right.
        const down = b.y > a.y;
        const sx = a.x + a.w / 2 + 14 + k * 10, tx = b.x + b.w / 2 + 14 + k * 10;
        const sy = down ? a.y + a.h : a.y, ty = down ? b.y : b.y + b.h;
        const bow = 18 + k * 10;
        d = `M${sx},${sy} C${sx + bow},${(2 * sy + ty) / 3} ${tx + bow},${(sy + 2 * ty) / 3} ${tx},${ty}`;
        lx = Math.max(sx, tx) + bow; ly = (sy + ty) / 2 + 4;
        side = true;
      } else {
        // Back: leave from the bottom, pass below every state, come up into the target.
        const depth = statesBottom + 40 + backIndex * 18;
        backIndex += 1;
        const sx = a.x + a.w / 2 + 10, sy = a.y + a.h, tx = b.x + b.w / 2 - 10, ty = b.y + b.h;
        const bottom = depth + 10;
        d = `M${sx},${sy} C${sx},${bottom} ${tx},${bottom} ${tx},${ty}`;
        lx = (sx + tx) / 2; ly = sy + 0.75 * (bottom - sy) + 4;
      }
      el("path", { d, "marker-end": `url(#${id}-arrow${taken ? "-taken" : ""})` }, g);
      text(g, lx, ly, e.name, side ? { class: "side" } : {});
    }

    const stateLayer = el("g", { class: "states" }, svg);
    for (const [name, p] of place) {
      const classes = ["state"];
      if (p.state.final) classes.push("final");
      if (options.visited && options.visited.has(name)) classes.push("visited");
      if (options.current === name) classes.push("current");
      if (options.onState) classes.push("clickable");
      const g = el("g", { class: classes.join(" "), "data-state": name }, stateLayer);
      if (p.state.final) el("rect", { class: "outer", x: p.x - 3, y: p.y - 3, width: p.w + 6, height: p.h + 6, rx: 10 }, g);
      el("rect", { x: p.x, y: p.y, width: p.w, height: p.h, rx: 8 }, g);
      text(g, p.x + p.w / 2, p.y + p.h / 2, name);
      if (name === workflow.initial) {
        el("circle", { class: "start-dot", cx: p.x - 16, cy: p.y + p.h / 2, r: 5 }, g);
        el("path", { d: `M${p.x - 11},${p.y + p.h / 2} L${p.x - 1},${p.y + p.h / 2}`, class: "edge-start",
          stroke: "#1a202c", "marker-end": `url(#${id}-arrow)` }, g);
      }
      if (options.counts) {
        const count = options.counts[name] || 0;
        const badge = el("g", { class: "badge" + (count ? "" : " zero"), "data-state": name, "data-count": count }, g);
        const label = String(count);
        const r = Math.max(11, label.length * 3.6 + 5);
        el("circle", { cx: p.x + p.w - 2, cy: p.y - 2, r }, badge);
        text(badge, p.x + p.w - 2, p.y - 2, label);
        const title = el("title", {}, badge);
        title.textContent = `${count} instance${count === 1 ? "" : "s"} in ${name}: click to list them`;
      }
      if (options.onState) g.addEventListener("click", () => options.onState(name));
    }
    return svg;
  }

  window.Diagram = { draw, edgesOf, ranks };
})();
