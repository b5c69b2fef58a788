// Custodian dashboard: polls the admin API, follows the event stream and sends
// operator actions. Plain DOM, no framework; text is always set as text.
"use strict";

const API = "/api/v1";
const POLL_MS = 2000;
const FEED_MAX = 200;
const SVG_NS = "http://www.w3.org/2000/svg";

const pools = new Map(); // name -> latest detail (or summary until the detail arrives)
const selected = new Map(); // pool name -> selected resource id
let order = []; // pool names in the node's start order
let events = null;
let lastSeq = -1; // the newest event in the feed
const cards = new Map(); // pool name -> { sig, el }: cards are rebuilt only when they change
let graphSig = "";
let requestSeq = 0; // orders pool reads, so an older answer never replaces a newer one
const applied = new Map(); // pool name -> requestSeq of the answer shown

// --- helpers ---------------------------------------------------------------

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "text") el.textContent = value;
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value);
  }
  for (const child of children) if (child != null) el.append(child);
  return el;
}

function svg(tag, attrs = {}) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, value);
  return el;
}

function showMessage(text, kind = "error") {
  const bar = document.getElementById("message-bar");
  bar.textContent = text;
  bar.className = kind;
  bar.hidden = false;
}

function clearMessage() {
  document.getElementById("message-bar").hidden = true;
}

// The token is what the header field holds (typed or restored from sessionStorage).
function token() {
  const input = document.getElementById("token");
  return input ? input.value.trim() : sessionStorage.getItem("custodian.token") || "";
}

/// Calls the API; on a refusal shows the server's error and throws.
async function api(method, path, body) {
  const headers = {};
  if (token()) headers.Authorization = "Bearer " + token();
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let res;
  try {
    res = await fetch(API + path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    showMessage("cannot reach the node: " + e.message);
    throw e;
  }
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    const err = data.error || {};
    let text = `${err.code || res.status}: ${err.message || res.statusText}`;
    for (const p of err.problems || []) text += ` — ${p.path}: ${p.message}`;
    showMessage(text);
    throw new Error(text);
  }
  return data;
}

function when(value) {
  if (value === undefined || value === null || value === "") return "-";
  const date = new Date(value);
  return isNaN(date) ? String(value) : date.toLocaleTimeString();
}

// --- actions ---------------------------------------------------------------

async function act(path, body, done) {
  try {
    await api("POST", path, body);
    clearMessage();
    showMessage(done, "info");
  } catch (e) {
    return; // already shown
  }
}

function poolAction(name, verb) {
  let body = {};
  if (verb === "resize") {
    const pool = pools.get(name) || {};
    const minIdle = prompt(`min_idle for ${name} (blank keeps ${pool.min_idle})`, "");
    if (minIdle === null) return;
    const maxSize = prompt(`max_size for ${name} (blank keeps ${pool.max_size})`, "");
    if (maxSize === null) return;
    if (minIdle.trim() !== "") body.min_idle = Number(minIdle);
    if (maxSize.trim() !== "") body.max_size = Number(maxSize);
  }
  act(`/pools/${encodeURIComponent(name)}/${verb}`, body, `${verb} ${name}: done`)
    .then(() => refreshPool(name));
}

function resourceAction(pool, id, verb) {
  const body = {};
  if (verb === "quarantine") {
    const reason = prompt(`Why quarantine ${id}?`, "operator");
    if (reason === null) return;
    body.reason = reason;
  }
  act(`/resources/${encodeURIComponent(id)}/${verb}`, body, `${verb} ${id}: done`)
    .then(() => refreshPool(pool));
}

// --- rendering -------------------------------------------------------------

function badge(text, testid) {
  const attrs = { class: "badge " + text, text };
  if (testid) attrs["data-testid"] = testid;
  return h("span", attrs);
}

function bar(label, value, max, kind) {
  const fill = h("div", { class: "fill" });
  fill.style.width = Math.min(100, max > 0 ? (100 * value) / max : 0) + "%";
  return h("div", { class: "bar " + kind },
    h("span", { text: label }), h("div", { class: "track" }, fill), h("span", { text: String(value) }));
}

function renderPool(name) {
  const p = pools.get(name);
  const max = Math.max(p.max_size || 0, p.size || 0, 1);
  const av = p.availability || {};
  const card = h("article", { class: "pool", "data-testid": `pool-${name}` },
    h("h3", {}, h("span", { text: name }), badge(p.state, `pool-state-${name}`), badge(p.health),
      h("span", { class: "muted", text: p.driver || "" })),
    h("div", { class: "availability", "data-testid": `pool-availability-${name}` },
      badge(av.level || "unknown"),
      av.root_cause ? ` root cause ${av.root_cause}: ${av.reason || ""}` : (av.reason ? ` ${av.reason}` : "")),
    bar("size", p.size || 0, max, "size"),
    bar("idle", p.idle || 0, max, "idle"),
    bar("in use", p.in_use || 0, max, "in-use"),
    bar("waiters", p.waiters || 0, Math.max(p.waiters || 0, max), "waiters"),
    h("div", { class: "muted", text: `min_idle ${p.min_idle} · max_size ${p.max_size} · quarantined ${p.quarantined || 0} · degraded ${p.degraded || 0}` }));

  const tiles = h("div", { class: "tiles", "data-testid": `resources-${name}` });
  for (const r of p.resources || []) {
    const classes = ["tile", "state-" + r.state, "health-" + r.health];
    if (r.quarantined) classes.push("quarantined");
    if (selected.get(name) === r.id) classes.push("selected");
    tiles.append(h("button", {
      class: classes.join(" "), "data-testid": `resource-${r.id}`,
      title: `${r.id}: ${r.state}, ${r.health}${r.leased ? ", leased" : ""}${r.quarantined ? ", quarantined" : ""}`,
      onclick: () => { selected.set(name, selected.get(name) === r.id ? null : r.id); renderAll(); },
    }));
  }
  card.append(tiles);

  const chosen = (p.resources || []).find((r) => r.id === selected.get(name));
  if (chosen) {
    card.append(h("div", { class: "resource-actions" },
      h("span", { text: `${chosen.id} (${chosen.state}, ${chosen.health})` }),
      h("button", { "data-testid": `action-quarantine-${chosen.id}`, text: "quarantine",
        onclick: () => resourceAction(name, chosen.id, "quarantine") }),
      h("button", { "data-testid": `action-release-${chosen.id}`, text: "release",
        onclick: () => resourceAction(name, chosen.id, "release") })));
  }

  if ((p.quarantine || []).length) {
    const table = h("table", { class: "quarantine", "data-testid": `quarantine-${name}` },
      h("tr", {}, ...["resource", "reason", "attempts", "next attempt"].map((t) => h("th", { text: t }))));
    for (const q of p.quarantine)
      table.append(h("tr", {}, h("td", { text: q.resource }), h("td", { text: q.reason || "" }),
        h("td", { text: String(q.attempts ?? "") }), h("td", { text: when(q.next_attempt) })));
    card.append(table);
  }

  card.append(h("div", { class: "actions" },
    ...["drain", "suspend", "resume", "resize"].map((verb) =>
      h("button", { "data-testid": `action-${verb}-${name}`, text: verb, onclick: () => poolAction(name, verb) }))));
  return card;
}

function renderGraph() {
  const graph = document.getElementById("graph");
  const names = order.filter((n) => pools.has(n));
  const sig = JSON.stringify(names.map((n) => {
    const p = pools.get(n);
    return [n, p.state, p.health, p.depends_on];
  }));
  if (sig === graphSig) return;
  graphSig = sig;
  graph.replaceChildren();
  const depth = new Map();
  const depthOf = (name, seen = new Set()) => {
    if (depth.has(name)) return depth.get(name);
    if (seen.has(name)) return 0; // a cycle: the node refuses those, draw anyway
    seen.add(name);
    const deps = ((pools.get(name) || {}).depends_on || []).filter((d) => pools.has(d.pool));
    const d = deps.length ? 1 + Math.max(...deps.map((x) => depthOf(x.pool, seen))) : 0;
    depth.set(name, d);
    return d;
  };
  names.forEach((n) => depthOf(n));
  const layers = [];
  for (const n of names) (layers[depth.get(n)] ||= []).push(n);
  const boxW = 120, boxH = 28, gapX = 30, gapY = 50;
  const width = Math.max(1, ...layers.map((l) => l.length)) * (boxW + gapX) + gapX;
  const height = layers.length * (boxH + gapY) + gapY / 2;
  graph.setAttribute("viewBox", `0 0 ${width} ${Math.max(height, 60)}`);
  graph.setAttribute("width", width);
  graph.setAttribute("height", Math.max(height, 60));
  const defs = svg("defs");
  const marker = svg("marker", { id: "arrow", viewBox: "0 0 10 10", refX: "10", refY: "5",
    markerWidth: "7", markerHeight: "7", orient: "auto-start-reverse" });
  marker.append(svg("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: "#555" }));
  defs.append(marker);
  graph.append(defs);
  const at = new Map();
  layers.forEach((layer, d) => layer.forEach((n, i) => {
    at.set(n, { x: gapX + i * (boxW + gapX), y: gapY / 2 + d * (boxH + gapY) });
  }));
  // Edges point from a pool to what it depends on (one layer up).
  // Each edge leaves its box at its own x, so edges that cross a layer stay apart.
  for (const n of names) {
    const deps = (pools.get(n).depends_on || []).filter((d) => at.has(d.pool));
    deps.forEach((dep, k) => {
      const from = at.get(n), to = at.get(dep.pool);
      graph.append(svg("line", { x1: from.x + (boxW * (k + 1)) / (deps.length + 1), y1: from.y,
        x2: to.x + boxW / 2, y2: to.y + boxH,
        class: dep.kind === "soft" ? "soft" : "hard", "marker-end": "url(#arrow)",
        "data-testid": `edge-${n}-${dep.pool}` }));
    });
  }
  for (const n of names) {
    const { x, y } = at.get(n);
    const p = pools.get(n);
    graph.append(svg("rect", { x, y, width: boxW, height: boxH, rx: 5,
      class: p.state === "error" ? "error" : p.health || "" }));
    const label = svg("text", { x: x + boxW / 2, y: y + boxH / 2 });
    label.textContent = n;
    graph.append(label);
  }
}

// Rebuilds only the cards whose pool changed: replacing every card on each poll
// would drop focus and hover, and a click that lands while its button is replaced.
function renderAll() {
  const container = document.getElementById("pools");
  const names = order.filter((n) => pools.has(n));
  for (const name of [...cards.keys()]) if (!names.includes(name)) cards.delete(name);
  const els = names.map((name) => {
    const sig = JSON.stringify([pools.get(name), selected.get(name) ?? null]);
    const card = cards.get(name);
    if (card && card.sig === sig) return card.el;
    const el = renderPool(name);
    cards.set(name, { sig, el });
    return el;
  });
  const same = els.length === container.children.length &&
    els.every((el, i) => container.children[i] === el);
  if (!same) container.replaceChildren(...els);
  renderGraph();
}

function renderNode(status) {
  const ev = status.events || {};
  document.getElementById("node").textContent =
    `${status.node} · v${status.version} · up ${status.uptime_s}s · ${status.ready ? "ready" : "not ready"}` +
    ` · events ${ev.last_seq ?? 0} (dropped ${ev.dropped ?? 0})` +
    ((status.drift || []).length ? ` · drift: ${status.drift.map((d) => `${d.pool}: ${d.message}`).join("; ")}` : "");
}

// --- data ------------------------------------------------------------------

async function refreshPool(name) {
  const seq = ++requestSeq;
  let detail;
  try {
    detail = await api("GET", `/pools/${encodeURIComponent(name)}`);
  } catch (e) {
    return;
  }
  // Answers can arrive out of order (the poll and an event's refresh overlap).
  if ((applied.get(name) ?? 0) > seq || !order.includes(name)) return;
  applied.set(name, seq);
  pools.set(name, detail);
  renderAll();
}

async function refreshStatus() {
  let status;
  try {
    status = await api("GET", "");
  } catch (e) {
    return null;
  }
  renderNode(status);
  order = (status.pools || []).map((p) => p.name);
  for (const name of [...pools.keys()]) if (!order.includes(name)) pools.delete(name);
  for (const p of status.pools || []) if (!pools.has(p.name)) pools.set(p.name, p);
  renderAll();
  await Promise.all(order.map(refreshPool));
  return status;
}

const dirty = new Set();
function refreshSoon(name) {
  if (dirty.has(name)) return;
  dirty.add(name);
  setTimeout(() => { dirty.delete(name); refreshPool(name); }, 0);
}

function addEvent(ev) {
  // EventSource reconnects to the same URL, whose since= replays older events.
  if (typeof ev.seq !== "number" || ev.seq <= lastSeq) return;
  lastSeq = ev.seq;
  const feed = document.getElementById("event-feed");
  const line = `${ev.seq} ${ev.ts} ${ev.kind} ${ev.pool || "-"} ${ev.resource || "-"} ${ev.from || "-"} → ${ev.to || "-"}`;
  feed.prepend(h("li", { "data-testid": `event-${ev.seq}`, title: JSON.stringify(ev.detail || {}), text: line }));
  while (feed.children.length > FEED_MAX) feed.lastElementChild.remove();
  if (!ev.pool) return;
  if (pools.has(ev.pool)) refreshSoon(ev.pool);
  else refreshStatus();
}

function follow(fromSeq) {
  if (events) events.close();
  const since = Math.max(0, (fromSeq || 0) - FEED_MAX);
  events = new EventSource(`${API}/events/stream?since=${since}`);
  events.onmessage = (msg) => {
    try { addEvent(JSON.parse(msg.data)); } catch (e) { /* not an event */ }
  };
}

async function start() {
  const input = document.getElementById("token");
  input.value = sessionStorage.getItem("custodian.token") || "";
  input.addEventListener("input", () => sessionStorage.setItem("custodian.token", input.value.trim()));
  document.getElementById("token-form").addEventListener("submit", (e) => {
    e.preventDefault();
    sessionStorage.setItem("custodian.token", input.value.trim());
    showMessage(input.value.trim() ? "token set for this tab" : "token cleared", "info");
    refreshStatus();
  });
  const status = await refreshStatus();
  follow(status && status.events ? status.events.last_seq : 0);
  setInterval(refreshStatus, POLL_MS);
}

start();
