// The list views: conflicts (with every strategy's proposal, the explanation, and a dry run that
// shows the diffs without writing), resources and their claims, alerts (acknowledge), health.

import { $, api, pages, el, badge, table, show, diff, when, count } from "./core.js";

// ---------------------------------------------------------------- conflicts

let conflictOffset = 0;

/** One page of 100 conflicts (each page computes its proposals on the server). */
export async function conflicts() {
  const body = await api(`/api/coordination/resource-conflicts?limit=100&offset=${conflictOffset}`);
  const items = body.conflicts, summary = body.summary, total = summary.total;
  const last = Math.min(total, conflictOffset + items.length);
  $("conflicts-meta").textContent = `${count(total, "conflict")} across ${count(summary.repositories, "repository", "repositories")}`;
  $("conflicts-page").textContent = total ? `${conflictOffset + 1}–${last} of ${total}` : "";
  $("conflicts-previous").disabled = conflictOffset === 0;
  $("conflicts-next").disabled = !body.pagination.hasMore;
  const chips = $("conflict-summary");
  chips.replaceChildren(
    ...Object.entries(summary.bySeverity).map(([s, n]) => el("span", { class: `badge ${s}` }, `${s} ${n}`)),
    ...Object.entries(summary.byType).map(([t, n]) => el("span", { class: "badge" }, `${t} ${n}`)),
  );
  const rows = items.map((c) => conflictRow(c));
  table($("conflicts"), ["severity", "type", "resource", "repositories", "conflict", ""], rows.flat(),
    "no conflicts: every port, domain, volume, network and shared value is used consistently");
}

export function installConflicts(reload) {
  $("conflicts-previous").addEventListener("click", () => {
    conflictOffset = Math.max(0, conflictOffset - 100);
    reload();
  });
  $("conflicts-next").addEventListener("click", () => {
    conflictOffset += 100;
    reload();
  });
}

function conflictRow(c) {
  const detail = el("tr", { class: "detail", hidden: true }, el("td", { colspan: 6 }));
  const open = el("button", { type: "button", class: "open" }, "details");
  const row = el("tr", { class: "conflict", "data-id": c.id },
    el("td", {}, badge(c.severity)), el("td", {}, c.type), el("td", {}, el("code", {}, c.resource)),
    el("td", {}, c.repositories.join(", ")), el("td", {}, c.message), el("td", {}, open));
  open.addEventListener("click", () => {
    detail.hidden = !detail.hidden;
    row.classList.toggle("open", !detail.hidden);
    if (!detail.hidden && !detail.firstChild.firstChild) conflictDetail(c, detail.firstChild);
  });
  return [row, detail];
}

function conflictDetail(c, cell) {
  const result = el("div", { class: "dry-run" });
  const occurrences = el("div", {}, el("h3", {}, "Where"), el("ul", {}, c.occurrences.map((o) =>
    el("li", {}, `${o.repository}${o.service ? "/" + o.service : ""}: ${o.detail || ""} `, el("span", { class: "evidence" }, o.evidence)))));
  const strategies = el("div", {}, el("h3", {}, "Proposals"), c.strategies.length
    ? el("ul", {}, c.strategies.map((s) => el("li", {}, el("b", {}, s.name), ` (confidence ${percent(s.confidence)}${s.automatic ? ", automatic" : ", manual"}) `,
      s.description, " ",
      el("button", { type: "button", class: "dry-run-button", onclick: () => dryRun(c, s.name, result) }, "dry run"))))
    : el("p", { class: "hint" }, "no strategy applies; the explanation says why"));
  const explanation = el("div", {}, el("button", { type: "button", onclick: (e) => explain(c, e.target.parentNode) }, "explain severity and evidence"));
  cell.append(el("div", { class: "conflict-detail" }, occurrences, strategies), explanation, result);
}

function percent(value) {
  return typeof value === "number" ? `${Math.round(value * 100)} %` : String(value);
}

async function dryRun(c, strategy, target) {
  target.replaceChildren(el("p", { class: "hint" }, `Dry run of ${strategy} on ${c.id}…`));
  try {
    const body = await api("/api/coordination/resolve-conflicts", {
      method: "POST",
      body: JSON.stringify({ conflicts: [{ id: c.id }], resolutionStrategy: strategy, dryRun: true }),
    });
    const resolution = body.resolutions[0];
    const parts = [el("h3", {}, `Dry run: ${strategy} (nothing written)`)];
    if (resolution.error) parts.push(el("p", { class: "error" }, `${resolution.error.code}: ${resolution.error.message}`));
    if (resolution.description) parts.push(el("p", {}, resolution.description));
    if (!resolution.changes.length && !resolution.error) parts.push(el("p", { class: "hint" }, "a suggestion without a patch: no file changes"));
    for (const change of resolution.changes) parts.push(el("p", {}, el("code", {}, `${change.repository}/${change.path}`)), diff(change.diff));
    target.replaceChildren(...parts);
  } catch (error) {
    target.replaceChildren(el("p", { class: "error" }, String(error.message || error)));
  }
}

async function explain(c, target) {
  try {
    const body = await api(`/api/coordination/resource-conflicts/${encodeURIComponent(c.id)}/explanation`);
    const evidence = (body.evidence || []).map((e) => el("li", {}, typeof e === "string" ? e : JSON.stringify(e)));
    target.replaceChildren(el("h3", {}, "Why"), el("p", {}, body.severityReason || ""), el("ul", {}, evidence));
  } catch (error) {
    target.replaceChildren(el("p", { class: "error" }, String(error.message || error)));
  }
}

// ---------------------------------------------------------------- resources

export async function resources() {
  const { items, total } = await pages("/api/coordination/resources", "resources");
  $("resources-meta").textContent = `${total} registered` + (items.length < total ? ` (showing ${items.length})` : "");
  const rows = items.map((r) => [
    el("code", {}, r.id), `${r.currentUsage}/${r.capacity}`, (r.owners || []).join(", "),
    (r.claims || []).map((c) => el("div", {}, `${c.repository}: ${c.operation.type}${c.operation.exclusive ? " (exclusive)" : ""}`,
      c.expiresAt ? ` until ${when(c.expiresAt)}` : " until released")),
  ]);
  table($("resources"), ["resource", "usage", "owners", "claims"], rows, "no resources registered");
}

// ---------------------------------------------------------------- alerts

export async function alerts() {
  const list = await api("/api/coordination/alerts?hours=168&limit=100");
  const active = list.alerts.filter((a) => a.active && !a.acknowledged).length;
  $("alerts-meta").textContent = `${list.pagination.total} in the last 7 days, ${active} active and unacknowledged`;
  const rows = list.alerts.map((alert) => {
    let action = alert.acknowledged ? "acknowledged" : "";
    if (!alert.acknowledged) {
      action = el("button", { type: "button", onclick: () =>
        api(`/api/coordination/alerts/${encodeURIComponent(alert.id)}/acknowledge`, { method: "POST" }).then(alerts, show) }, "acknowledge");
    }
    return [badge(alert.severity), alert.message + (alert.active ? "" : " (cleared)"), when(alert.raisedAt), action];
  });
  table($("alerts"), ["severity", "alert", "raised", ""], rows, "no alerts");
}

// ---------------------------------------------------------------- health

export async function health() {
  const [detailed, operations] = await Promise.all([
    api("/api/coordination/health/detailed"),
    api("/api/coordination/operations?limit=25"),
  ]);
  badgeHealth(detailed);
  table($("components"), ["component", "status", ""], (detailed.components || []).map((c) =>
    [c.name, badge(c.status), c.message]).concat([["uptime", "", `${detailed.uptimeSeconds} s, version ${detailed.version}`]]));
  table($("operations"), ["started", "type", "status", "duration", "error"], operations.operations.map((op) =>
    [when(op.startedAt), op.type, badge(op.status), op.durationMs == null ? "" : op.durationMs + " ms", op.error || ""]),
  "no operations yet");
}

export function badgeHealth(detailed) {
  const status = $("health");
  status.className = "badge " + detailed.status;
  status.textContent = detailed.status;
}

/** The fleet table of the health view, from the graph and the conflict summary. */
export function fleet(graph) {
  const conflictTotal = graph.metadata.conflictCount;
  const meta = graph.metadata;
  table($("fleet"), ["figure", "value"], [
    ["repositories", String(meta.repositoryCount)], ["services", String(meta.serviceCount)],
    ["repository edges", String(meta.edgeCount)], ["phases", String(graph.phases.length)],
    ["cycles", String(graph.cycles.length)], ["conflicts", String(conflictTotal)],
    ["analyzed", when(meta.analyzedAt)],
  ]);
}
