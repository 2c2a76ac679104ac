// The deployments view: each stored deployment (GET /deployments) with its phases as columns and
// every repository's progress, the rollback plan after a failure, and live updates from the
// events WebSocket (deployment.* events re-read the deployment they name).

import { $, api, el, badge, token, show, when, count } from "./core.js";

let socket = null;
let received = 0;
let onScreen = false;

export async function deployments() {
  onScreen = true;
  const body = await api("/api/coordination/deployments?limit=25");
  const target = $("deployments");
  $("deployments-meta").textContent = `${body.pagination.total} stored` +
    (body.pagination.total > body.deployments.length ? ` (the newest ${body.deployments.length})` : "");
  target.replaceChildren(...body.deployments.map(card));
  if (!body.deployments.length) {
    target.append(el("p", { class: "hint", id: "no-deployments" },
      "No deployments yet. Plan one with POST /api/coordination/coordinate-deployment (or a pipeline step); it appears here and its phases move live."));
  }
  connect();
}

export function leave() {
  onScreen = false;
}

function card(response) {
  const c = response.coordination, summary = response.deployment;
  const phases = el("div", { class: "phases" }, c.phases.map((p) => el("div", {
    class: "phase" + (c.currentPhase === p.phase && !c.finishedAt ? " current" : ""), "data-phase": p.phase,
  },
  el("h4", {}, `Phase ${p.phase}${p.parallel ? " ∥" : ""}`, badge(p.status)),
  p.repositories.map((r) => {
    const progress = c.progress[r] || { status: "pending" };
    return el("div", { class: `repo ${progress.status}`, "data-repository": r }, el("span", {}, r),
      el("span", {}, progress.durationSeconds != null ? `${progress.durationSeconds} s` : progress.status));
  }),
  el("div", { class: "hint" }, `≈ ${p.estimatedDuration} s`))));
  const parts = [
    el("h3", {}, el("code", {}, c.id), " ", badge(c.status), ` ${summary.completedPhases}/${summary.totalPhases} phases`,
      ` · planned ${when(c.createdAt)}`, c.finishedAt ? ` · finished ${when(c.finishedAt)}` : "",
      ` · estimate ${summary.estimatedDuration} s · ${count(c.claims.length, "claim")}`),
    phases,
  ];
  if (c.rollback) {
    parts.push(el("div", { class: "rollback" }, el("h4", {}, `Rollback plan: ${c.rollback.failedRepository} failed in phase ${c.rollback.failedPhase}`),
      c.rollback.phases.length
        ? el("ol", {}, c.rollback.phases.map((p) => el("li", {}, `undo ${p.repositories.join(", ")} (deployed in phase ${p.deployedInPhase})`)))
        : el("p", { class: "hint" }, "nothing had succeeded: nothing to undo")));
  }
  if (c.conflicts.length) parts.push(el("p", { class: "hint" }, `${count(c.conflicts.length, "conflict was", "conflicts were")} ignored when planning`));
  return el("div", { class: "deployment", "data-id": c.id }, parts);
}

async function refreshOne(id) {
  if (!onScreen) return;
  try {
    const response = await api(`/api/coordination/deployments/${encodeURIComponent(id)}`);
    const old = $("deployments").querySelector(`.deployment[data-id="${CSS.escape(id)}"]`);
    if (old) old.replaceWith(card(response));
    else await deployments();
  } catch (error) {
    show(error);
  }
}

/** One socket for the page's lifetime; it reconnects after the server went away. */
function connect() {
  if (socket && socket.readyState <= 1) return;
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const query = new URLSearchParams({ topics: "deployment.*" });
  if (token()) query.set("access_token", token());
  socket = new WebSocket(`${scheme}://${location.host}/api/coordination/events?${query}`);
  const live = $("live");
  socket.addEventListener("open", () => {
    live.className = "badge healthy";
    live.textContent = "live";
  });
  socket.addEventListener("message", (message) => {
    let event;
    try {
      event = JSON.parse(message.data);
    } catch {
      return;
    }
    if (!event.event || !event.event.startsWith("deployment.")) return;
    received++;
    live.textContent = `live · ${received} event${received === 1 ? "" : "s"}`;
    const data = event.data || {};
    const id = data.id || (data.coordination && data.coordination.id);
    if (id) refreshOne(id);
  });
  socket.addEventListener("close", () => {
    live.className = "badge";
    live.textContent = "not connected";
    setTimeout(() => onScreen && connect(), 3000);
  });
}
