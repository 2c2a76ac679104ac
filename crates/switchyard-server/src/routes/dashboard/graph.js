// The graph view: GET /graph drawn as a layered SVG (deployment phases as columns), with search,
// focus on a node's neighbourhood, zoom and pan, and a details panel fed by
// GET /repositories/{name} (a node's services, endpoints, dependencies and dependents; an
// edge's evidence). A fleet larger than FULL_CAP nodes is never drawn whole: the overview shows
// the most connected nodes and every cycle, with per-phase counts, and says how many it shows.

import { $, api, el, svg, show, count } from "./core.js";
import { layered, neighbourhood, NODE_WIDTH, NODE_HEIGHT } from "./layout.js";

/** Draw the whole graph up to this many nodes. */
const FULL_CAP = 150;
/** In the overview of a larger fleet: this many of the most connected nodes (plus cycles). */
const TOP_N = 40;
/** A focus view draws at most this many nodes. */
const FOCUS_CAP = 120;
/** Strongest first: the class an edge standing for several kinds is drawn with. */
const KIND_ORDER = ["call", "browser", "build", "startup", "peer"];

const state = {
  level: "repository",
  graphs: {},
  graph: null,
  byId: new Map(),
  focus: null,
  selected: null,
  view: null,
  bounds: null,
};

const degree = (id) => {
  const n = state.byId.get(id);
  return n ? n.dependsOn + n.dependents : 0;
};

export async function load(force = false) {
  if (force) state.graphs = {};
  const level = state.level;
  if (!state.graphs[level]) {
    $("graph-meta").textContent = `Reading the ${level} graph…`;
    state.graphs[level] = await api(`/api/coordination/graph?level=${level}`);
  }
  state.graph = state.graphs[level];
  state.byId = new Map(state.graph.nodes.map((n) => [n.id, n]));
  if (state.focus && !state.byId.has(state.focus)) state.focus = null;
  render();
  return state.graph;
}

/** The repository-level graph (read once, then kept): the fleet's figures for the header. */
export async function fleet() {
  if (!state.graphs.repository) state.graphs.repository = await api("/api/coordination/graph?level=repository");
  return state.graphs.repository;
}

/** The nodes to draw now and the note saying what is shown. */
function selection() {
  const graph = state.graph;
  const noun = state.level === "service" ? "services" : "repositories";
  const total = graph.nodes.length;
  if (state.focus) {
    const depth = Number($("depth").value) || 1;
    const near = neighbourhood(state.focus, graph.edges, depth, FOCUS_CAP, degree);
    const capped = near.total > near.ids.size ? `, capped at ${FOCUS_CAP} of ${near.total} within reach` : "";
    return {
      ids: near.ids,
      note: `Focus on ${state.focus}, depth ${depth}: showing ${near.ids.size} of ${total} ${noun}${capped}.`,
    };
  }
  if (total <= FULL_CAP) {
    return { ids: new Set(graph.nodes.map((n) => n.id)), note: `Showing all ${total} ${noun}.` };
  }
  // A few of the most connected nodes of every phase, so every column is there, then the
  // most connected of the fleet up to TOP_N.
  const ranked = [...graph.nodes].sort((a, b) => degree(b.id) - degree(a.id) || (a.id < b.id ? -1 : 1));
  const perPhase = Math.max(3, Math.floor(TOP_N / (2 * Math.max(1, graph.phases.length))));
  const taken = new Map();
  const ids = new Set();
  for (const n of ranked) {
    if ((taken.get(n.phase) || 0) < perPhase) {
      ids.add(n.id);
      taken.set(n.phase, (taken.get(n.phase) || 0) + 1);
    }
  }
  for (const n of ranked) {
    if (ids.size >= TOP_N) break;
    ids.add(n.id);
  }
  let onCycles = 0;
  for (const n of graph.nodes) {
    if (n.cycle != null && ids.size < TOP_N + FOCUS_CAP) {
      ids.add(n.id);
      onCycles++;
    }
  }
  return {
    ids,
    note: `Showing ${ids.size} of ${total} ${noun}: the most connected of each phase and of the fleet` +
      (onCycles ? ` and ${onCycles} on cycles` : "") + ". Search for one to see its neighbourhood.",
  };
}

function kindClass(edge) {
  const kind = KIND_ORDER.find((k) => edge.kinds.includes(k)) || "call";
  return edge.cycle ? `edge ${kind} cycle` : `edge ${kind}`;
}

function label(id) {
  const text = state.level === "service" ? id.slice(id.indexOf("/") + 1) : id;
  return text.length > 22 ? text.slice(0, 21) + "…" : text;
}

function edgePath(a, b) {
  const ya = a.y + NODE_HEIGHT / 2, yb = b.y + NODE_HEIGHT / 2;
  if (a.column > b.column) {
    const x1 = a.x, x2 = b.x + NODE_WIDTH, bend = (x1 - x2) / 2;
    return `M ${x1} ${ya} C ${x1 - bend} ${ya}, ${x2 + bend} ${yb}, ${x2} ${yb}`;
  }
  if (a.column < b.column) {
    const x1 = a.x + NODE_WIDTH, x2 = b.x, bend = (x2 - x1) / 2;
    return `M ${x1} ${ya} C ${x1 + bend} ${ya}, ${x2 - bend} ${yb}, ${x2} ${yb}`;
  }
  // Same phase (members of one cycle): an arc beside the column.
  const x = a.x + NODE_WIDTH, reach = 30 + Math.abs(a.row - b.row) * 12;
  return `M ${x} ${ya} C ${x + reach} ${ya}, ${x + reach} ${yb}, ${x} ${yb}`;
}

function render() {
  const graph = state.graph;
  const { ids, note } = selection();
  const nodes = graph.nodes.filter((n) => ids.has(n.id));
  const edges = graph.edges.filter((e) => ids.has(e.from) && ids.has(e.to));
  const layout = layered(nodes, edges);
  const root = $("graph");
  root.replaceChildren();
  root.dataset.shown = String(nodes.length);
  root.dataset.total = String(graph.nodes.length);
  const defs = svg("defs");
  for (const [id, colour] of [["arrow", "#6b7891"], ["arrow-cycle", "#c92a2a"]]) {
    const marker = svg("marker", { id, viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" });
    marker.append(svg("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: colour }));
    defs.append(marker);
  }
  root.append(defs);
  const content = svg("g", { class: "content" });
  root.append(content);
  const perPhase = new Map(graph.phases.map((p) => [p.phase, p.repositories.length]));
  for (const column of layout.columns) {
    content.append(svg("rect", { class: "column-band", x: column.x - 10, y: 4, width: NODE_WIDTH + 20, height: layout.height - 4, rx: 6 }));
    const all = perPhase.get(column.phase) || column.count;
    const count = all === column.count ? `${all}` : `${column.count} of ${all}`;
    content.append(svg("text", { class: "column-head", x: column.x, y: 24 }, `Phase ${column.phase} · ${count}`));
  }
  for (const edge of edges) {
    const a = layout.positions.get(edge.from), b = layout.positions.get(edge.to);
    const d = edgePath(a, b);
    const group = svg("g", { class: "link", "data-from": edge.from, "data-to": edge.to });
    const path = svg("path", { class: kindClass(edge), d, "marker-end": edge.cycle ? "url(#arrow-cycle)" : "url(#arrow)" });
    group.append(path, svg("path", { class: "hit", d }));
    group.append(svg("title", {}, `${edge.from} → ${edge.to}: ${edge.kinds.join(", ")}` +
      (edge.count > 1 ? ` (${edge.count} service edges)` : "") + (edge.cycle ? ", on a cycle" : "")));
    group.addEventListener("click", (event) => {
      event.stopPropagation();
      selectEdge(edge, path);
    });
    content.append(group);
  }
  for (const node of nodes) {
    const p = layout.positions.get(node.id);
    const classes = ["node"];
    if (node.cycle != null) classes.push("cycle");
    if (node.id === state.focus) classes.push("focus");
    if (node.id === state.selected) classes.push("selected");
    const g = svg("g", { class: classes.join(" "), "data-id": node.id, transform: `translate(${p.x} ${p.y})` });
    g.append(svg("rect", { width: NODE_WIDTH, height: NODE_HEIGHT, rx: 5 }));
    g.append(svg("text", { x: 8, y: 15 }, label(node.id)));
    const sub = state.level === "service" ? node.repository
      : `${node.services} service${node.services === 1 ? "" : "s"} · ${node.dependsOn}→ · →${node.dependents}`;
    g.append(svg("text", { class: "sub", x: 8, y: 29 }, sub));
    if (node.conflicts) {
      g.append(svg("circle", { class: "flag", cx: NODE_WIDTH - 10, cy: 10, r: 6 }));
      g.append(svg("title", {}, `${node.id}: ${node.conflicts} conflict${node.conflicts === 1 ? "" : "s"}` +
        (node.cycle != null ? ", on a cycle" : "")));
    } else {
      g.append(svg("title", {}, node.id + (node.cycle != null ? " (on a cycle)" : "")));
    }
    g.addEventListener("click", (event) => {
      event.stopPropagation();
      selectNode(node.id);
    });
    g.addEventListener("dblclick", (event) => {
      event.stopPropagation();
      focusOn(node.id);
    });
    content.append(g);
  }
  state.bounds = { x: 0, y: 0, w: Math.max(layout.width, 200), h: Math.max(layout.height, 120) };
  fit();
  const meta = graph.metadata;
  $("graph-meta").textContent = `${note} Fleet: ${count(meta.repositoryCount, "repository", "repositories")}, ` +
    `${count(meta.serviceCount, "service")}, ${count(meta.edgeCount, state.level + " edge")}, ` +
    `${count(graph.phases.length, "phase")}, ${count(graph.cycles.length, "cycle")}, ${count(meta.conflictCount, "conflict")}.`;
  drawOrder();
  drawAggregate();
}

/** The phases in words (counts for a large fleet), and the cycles. */
function drawOrder() {
  const graph = state.graph;
  const parts = graph.phases.map((p) => p.repositories.length <= 6
    ? `${p.phase}: ${p.repositories.join(", ")}` : `${p.phase}: ${p.repositories.length} ${state.level === "service" ? "services" : "repositories"}`);
  const cycles = graph.cycles.length
    ? ` Cycles (deployed together in their phase): ${graph.cycles.slice(0, 5).map((c) => c.join(" → ")).join("; ")}` +
      (graph.cycles.length > 5 ? ` and ${graph.cycles.length - 5} more` : "") + "."
    : "";
  $("order").textContent = `Deployment phases — ${parts.slice(0, 30).join(" · ")}` +
    (parts.length > 30 ? ` · … ${parts.length - 30} more` : "") + "." + cycles;
}

/** Aggregates for a fleet too large to draw: nodes per phase, most depended on, cycles. */
function drawAggregate() {
  const target = $("aggregate");
  target.replaceChildren();
  const graph = state.graph;
  if (graph.nodes.length <= FULL_CAP) return;
  const widest = Math.max(1, ...graph.phases.map((p) => p.repositories.length));
  const phases = el("div", { id: "phase-counts" }, el("h3", {}, "Per phase"),
    graph.phases.map((p) => el("div", { class: "bar" }, el("span", {}, `Phase ${p.phase}`),
      bar(Math.max(2, (200 * p.repositories.length) / widest)),
      el("span", {}, String(p.repositories.length)))));
  const top = [...graph.nodes].sort((a, b) => b.dependents - a.dependents || (a.id < b.id ? -1 : 1)).slice(0, 15);
  const depended = el("div", {}, el("h3", {}, "Most depended on"),
    el("ol", {}, top.map((n) => el("li", {}, el("a", { href: "#/graph", onclick: (e) => { e.preventDefault(); focusOn(n.id); } }, n.id),
      ` ${n.dependents}`))));
  const cycles = el("div", {}, el("h3", {}, `Cycles (${graph.cycles.length})`),
    graph.cycles.length ? el("ul", {}, graph.cycles.slice(0, 20).map((c) => el("li", {},
      el("a", { href: "#/graph", onclick: (e) => { e.preventDefault(); focusOn(c[0]); } }, c.join(" → ")))))
      : el("p", { class: "hint" }, "none"));
  target.append(phases, depended, cycles);
}

/** A bar `width` pixels wide (set through the CSSOM: the page's policy refuses style attributes). */
function bar(width) {
  const span = el("span", { class: "fill" });
  span.style.width = `${width}px`;
  return span;
}

export function focusOn(id) {
  if (!state.byId.has(id)) return false;
  state.focus = id;
  state.selected = id;
  $("search").value = id;
  render();
  selectNode(id);
  return true;
}

function setSelected(element) {
  for (const old of $("graph").querySelectorAll(".selected")) old.classList.remove("selected");
  if (element) element.classList.add("selected");
}

function repositoryOf(id) {
  const node = state.byId.get(id);
  return node ? node.repository : id;
}

async function selectNode(id) {
  state.selected = id;
  setSelected($("graph").querySelector(`g.node[data-id="${CSS.escape(id)}"]`));
  const panel = $("details");
  panel.replaceChildren(el("p", { class: "hint" }, `Reading ${id}…`));
  try {
    const repo = repositoryOf(id);
    const detail = await api(`/api/coordination/repositories/${encodeURIComponent(repo)}`);
    if (state.selected !== id) return;
    const service = state.level === "service" ? id : null;
    const services = service ? detail.services.filter((s) => s.id === service) : detail.services;
    const outgoing = service ? detail.dependencies.filter((e) => e.from === service) : detail.dependencies;
    const incoming = service
      ? [...detail.dependents, ...detail.dependencies].filter((e) => e.to === service && e.from !== service)
      : detail.dependents;
    const node = state.byId.get(id);
    panel.replaceChildren(...[
      el("h3", {}, id),
      el("p", {}, `Phase ${node ? node.phase : detail.phase}`, node && node.cycle != null ? " · on a cycle" : "", " ",
        el("button", { type: "button", id: "focus-node", onclick: () => focusOn(id) }, "focus here")),
      detail.conflicts.length ? el("p", {}, el("a", { href: "#/conflicts" },
        `${detail.conflicts.length} conflict${detail.conflicts.length === 1 ? "" : "s"}`), ": ",
        detail.conflicts.slice(0, 3).map((c) => c.type).join(", ")) : null,
      el("h3", {}, `Services (${services.length})`),
      el("ul", { id: "detail-services" }, services.map((s) => el("li", {}, el("b", {}, s.name), ` ${s.kind}`,
        s.image ? ` · ${s.image}` : "", el("div", { class: "evidence" }, s.source),
        s.endpoints.length ? el("ul", {}, s.endpoints.map((e) => el("li", {}, e.label, " ", el("span", { class: "evidence" }, e.evidence)))) : null))),
      el("h3", {}, `Depends on (${outgoing.length})`),
      edgeList(outgoing, "detail-dependencies", (e) => `${e.fromService} → ${e.toRepository}/${e.toService}`),
      el("h3", {}, `Dependents (${incoming.length})`),
      edgeList(incoming, "detail-dependents", (e) => `${e.fromRepository}/${e.fromService} → ${e.toService}`),
    ].filter(Boolean));
  } catch (error) {
    panel.replaceChildren(el("p", { class: "error" }, String(error.message || error)));
  }
}

function edgeList(edges, id, name) {
  if (!edges.length) return el("p", { id, class: "hint" }, "none");
  return el("ul", { id }, edges.map((e) => el("li", {}, name(e), ` (${e.kind}, ${e.mechanism}, ${e.confidence})`,
    e.evidence.map((text) => el("div", { class: "evidence" }, text)))));
}

async function selectEdge(edge, path) {
  state.selected = null;
  setSelected(path);
  const panel = $("details");
  panel.replaceChildren(el("p", { class: "hint" }, `Reading ${edge.from} → ${edge.to}…`));
  try {
    const detail = await api(`/api/coordination/repositories/${encodeURIComponent(repositoryOf(edge.from))}`);
    const service = state.level === "service";
    const found = detail.dependencies.filter((e) => service
      ? e.from === edge.from && e.to === edge.to
      : e.toRepository === edge.to);
    panel.replaceChildren(
      el("h3", { id: "edge-title" }, `${edge.from} → ${edge.to}`),
      el("p", {}, `${edge.kinds.join(", ")}${edge.telemetry ? " (telemetry)" : ""}` + (edge.cycle ? " · on a cycle" : "") +
        ` · ${found.length} service edge${found.length === 1 ? "" : "s"}`),
      el("h3", {}, "Evidence"),
      edgeList(found, "edge-evidence", (e) => `${e.fromRepository}/${e.fromService} → ${e.toRepository}/${e.toService}`),
    );
  } catch (error) {
    panel.replaceChildren(el("p", { class: "error" }, String(error.message || error)));
  }
}

// Zoom and pan: the SVG's viewBox is the camera.
function apply() {
  const v = state.view;
  $("graph").setAttribute("viewBox", `${v.x} ${v.y} ${v.w} ${v.h}`);
}

function fit() {
  const b = state.bounds;
  const box = $("graph").getBoundingClientRect();
  const bw = box.width || 800, bh = box.height || 500;
  // The whole drawing, centred, magnified at most 1.6 times (a small fleet stays readable,
  // a large one is shrunk to fit: nothing is ever off the panel).
  const magnification = Math.min(bw / (b.w + 20), bh / (b.h + 20), 1.6);
  const w = bw / magnification, h = bh / magnification;
  state.view = { x: b.x + b.w / 2 - w / 2, y: b.y + b.h / 2 - h / 2, w, h };
  apply();
}

function zoom(factor, cx, cy) {
  const v = state.view;
  const x = cx == null ? v.x + v.w / 2 : cx, y = cy == null ? v.y + v.h / 2 : cy;
  state.view = { x: x - (x - v.x) * factor, y: y - (y - v.y) * factor, w: v.w * factor, h: v.h * factor };
  apply();
}

function pointer(event) {
  const box = $("graph").getBoundingClientRect(), v = state.view;
  return { x: v.x + ((event.clientX - box.left) / box.width) * v.w, y: v.y + ((event.clientY - box.top) / box.height) * v.h };
}

function searchNames() {
  const text = $("search").value.trim().toLowerCase();
  const list = $("search-names");
  list.replaceChildren();
  if (!state.graph || !text) return;
  const found = state.graph.nodes.filter((n) => n.id.toLowerCase().includes(text)).slice(0, 30);
  list.append(...found.map((n) => el("option", { value: n.id })));
}

function search() {
  const text = $("search").value.trim();
  if (!text || !state.graph) return;
  if (focusOn(text)) return;
  const lower = text.toLowerCase();
  const hit = state.graph.nodes.find((n) => n.id.toLowerCase().includes(lower));
  if (hit) focusOn(hit.id);
  else show(`no ${state.level} matches “${text}”`);
}

export function install() {
  const root = $("graph");
  root.addEventListener("wheel", (event) => {
    event.preventDefault();
    const p = pointer(event);
    zoom(event.deltaY > 0 ? 1.15 : 1 / 1.15, p.x, p.y);
  }, { passive: false });
  let drag = null;
  root.addEventListener("pointerdown", (event) => {
    if (event.button !== 0 || event.target.closest("g.node, g.link")) return;
    drag = { x: event.clientX, y: event.clientY, view: { ...state.view } };
    root.classList.add("panning");
  });
  window.addEventListener("pointermove", (event) => {
    if (!drag) return;
    const box = root.getBoundingClientRect();
    const dx = ((event.clientX - drag.x) / box.width) * drag.view.w, dy = ((event.clientY - drag.y) / box.height) * drag.view.h;
    state.view = { ...drag.view, x: drag.view.x - dx, y: drag.view.y - dy };
    apply();
  });
  window.addEventListener("pointerup", () => {
    drag = null;
    root.classList.remove("panning");
  });
  $("zoom-in").addEventListener("click", () => zoom(1 / 1.25));
  $("zoom-out").addEventListener("click", () => zoom(1.25));
  $("zoom-fit").addEventListener("click", fit);
  $("search").addEventListener("input", searchNames);
  $("search").addEventListener("change", search);
  $("search").addEventListener("keydown", (event) => { if (event.key === "Enter") search(); });
  $("depth").addEventListener("change", () => state.focus && render());
  $("overview").addEventListener("click", () => {
    state.focus = null;
    $("search").value = "";
    render();
  });
  $("level").addEventListener("change", () => {
    state.level = $("level").value;
    state.focus = null;
    state.selected = null;
    load().catch(show);
  });
}
