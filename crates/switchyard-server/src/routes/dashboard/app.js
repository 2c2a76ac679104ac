// The dashboard's entry: the token field, the views behind the tabs (#graph, #conflicts,
// #deployments, #resources, #alerts, #health), and the header badges (health, conflicts, active
// alerts) that stay current on every view.

import { $, api, show, clearMessage } from "./core.js";
import * as graph from "./graph.js";
import * as views from "./views.js";
import * as deploy from "./deployments.js";

const VIEWS = {
  graph: () => graph.load(),
  conflicts: views.conflicts,
  deployments: deploy.deployments,
  resources: views.resources,
  alerts: views.alerts,
  health: async () => {
    await views.health();
    views.fleet(await graph.fleet());
  },
};

function current() {
  const name = location.hash.replace(/^#\/?/, "").split("?")[0];
  return VIEWS[name] ? name : "graph";
}

async function open() {
  const name = current();
  clearMessage();
  for (const section of document.querySelectorAll("section.view")) section.hidden = section.id !== `view-${name}`;
  for (const link of document.querySelectorAll("#nav a")) link.classList.toggle("active", link.dataset.view === name);
  if (name !== "deployments") deploy.leave();
  document.body.dataset.view = name;
  document.body.dataset.ready = "";
  try {
    await VIEWS[name]();
  } catch (error) {
    show(error);
  }
  document.body.dataset.ready = name;
}

/** Health, conflict count and unacknowledged alerts in the header, whatever the view. The
 * conflict count comes from the graph's metadata: listing conflicts is a conflict check that
 * counts in the conflict-rate alert, so the page never polls it. */
async function badges() {
  try {
    const [detailed, alerts, fleet] = await Promise.all([
      api("/api/coordination/health/detailed"),
      api("/api/coordination/alerts?acknowledged=false&limit=1"),
      graph.fleet(),
    ]);
    views.badgeHealth(detailed);
    const total = fleet.metadata.conflictCount;
    $("conflict-count").textContent = total ? String(total) : "";
    const waiting = alerts.summary.active;
    $("alert-count").textContent = waiting ? String(waiting) : "";
  } catch (error) {
    show(error);
  }
}

const tokenInput = $("token");
tokenInput.value = localStorage.getItem("switchyard-token") || "";
tokenInput.addEventListener("change", () => {
  localStorage.setItem("switchyard-token", tokenInput.value);
  badges();
  graph.load(true).catch(show);
  open();
});
graph.install();
views.installConflicts(open);
window.addEventListener("hashchange", open);
open();
badges();
// Each list and the health are re-read every 15 s on the view that shows them; the graph only
// changes with an analysis, so it is read when opened.
setInterval(() => {
  badges();
  const name = current();
  if (name === "alerts" || name === "resources" || name === "health") VIEWS[name]().catch(show);
}, 15000);
