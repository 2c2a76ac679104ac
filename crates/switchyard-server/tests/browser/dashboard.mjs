// Opens every view of the dashboard (GET /) of a running server in headless Chromium and
// reports, as one JSON line on stdout, what a person would see on each, plus every console or
// page error. Each view is visited through its tab link and waited for (the page marks
// <body data-ready="VIEW"> once the view has drawn), never with fixed sleeps.
//
// Usage: node dashboard.mjs BASE_URL [TOKEN]
// Environment:
//   SCREENSHOTS=DIR      write DIR/PREFIX-VIEW.png for each view (1280x800)
//   PREFIX=name          screenshot name prefix (default "fleet")
//   VIEWS=a,b            views to visit (default graph,conflicts,deployments,resources,alerts,health)
//   FOCUS=name           search this node on the graph view and report its neighbourhood
//   CLICK=1              click a node and an edge on the graph view, report the details panel
//   DRY_RUN=1            open the first conflict and dry-run its first proposal
//   DEPLOYMENT=coord_…   on the deployments view, report this deployment's first-phase
//                        repositories "started" through the API and wait until the page shows it
//                        without a reload (the events socket)
//   ACKNOWLEDGE=1        acknowledge the first alert and report the table afterwards
import { mkdirSync } from "node:fs";
import { chromium } from "playwright-core";

const [base, token = ""] = process.argv.slice(2);
if (!base) {
  console.error("usage: node dashboard.mjs BASE_URL [TOKEN]");
  process.exit(2);
}
const env = process.env;
const views = (env.VIEWS || "graph,conflicts,deployments,resources,alerts,health").split(",");
const shots = env.SCREENSHOTS || "";
const prefix = env.PREFIX || "fleet";
if (shots) mkdirSync(shots, { recursive: true });
const TIMEOUT = { timeout: 30000 };

const browser = await chromium.launch({
  executablePath: env.CHROMIUM || "/usr/bin/chromium",
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});
const errors = [];
const seen = {};
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on("console", (message) => {
    if (message.type() !== "error") return;
    // A critical server answers its health routes with 503 by design, and Chromium logs every
    // non-2xx answer; the page shows that status, it is not an error of the page.
    const url = (message.location() || {}).url || "";
    if (/\/health(\/detailed)?(\?|$)/.test(url) && message.text().includes("503")) return;
    errors.push("console: " + message.text() + (url ? ` (${url})` : ""));
  });
  page.on("pageerror", (error) => errors.push("page: " + error.message));
  if (token) await page.addInitScript((t) => localStorage.setItem("switchyard-token", t), token);
  await page.goto(base + "/", { waitUntil: "load" });
  await page.waitForFunction(() => document.body.dataset.ready === "graph", null, TIMEOUT);
  await page.waitForFunction(() => document.querySelector("#health").textContent !== "…", null, TIMEOUT);
  const cells = (selector) => page.evaluate((s) => [...document.querySelectorAll(s + " tr")].slice(1)
    .map((tr) => [...tr.children].map((td) => td.textContent.trim())), selector);
  const text = (selector) => page.evaluate((s) => {
    const e = document.querySelector(s);
    return e ? e.textContent.trim() : null;
  }, selector);
  const texts = (selector) => page.evaluate((s) => [...document.querySelectorAll(s)].map((e) => e.textContent.trim()), selector);
  const shoot = async (name) => {
    if (shots) await page.screenshot({ path: `${shots}/${prefix}-${name}.png` });
  };

  for (const view of views) {
    await page.click(`#nav a[data-view="${view}"]`);
    await page.waitForFunction((v) => document.body.dataset.ready === v, view, TIMEOUT);
    const result = { message: await text("#message") };
    if (view === "graph") {
      Object.assign(result, await page.evaluate(() => ({
        nodes: [...document.querySelectorAll("#graph g.node")].map((g) => g.dataset.id),
        cycleNodes: [...document.querySelectorAll("#graph g.node.cycle")].map((g) => g.dataset.id),
        edges: document.querySelectorAll("#graph g.link").length,
        cycleEdges: document.querySelectorAll("#graph path.edge.cycle").length,
        columns: [...document.querySelectorAll("#graph .column-head")].map((t) => t.textContent),
        shown: Number(document.querySelector("#graph").dataset.shown),
        total: Number(document.querySelector("#graph").dataset.total),
        meta: document.querySelector("#graph-meta").textContent,
        order: document.querySelector("#order").textContent,
        aggregate: document.querySelector("#aggregate").textContent.length > 0,
        // Every node inside the drawing's bounds: nothing drawn off the panel.
        outside: (() => {
          const svg = document.querySelector("#graph"), box = svg.viewBox.baseVal;
          return [...svg.querySelectorAll("g.node")].filter((g) => {
            const b = g.getBBox(), m = g.transform.baseVal.consolidate().matrix;
            return m.e < box.x || m.f < box.y || m.e + b.width > box.x + box.width || m.f + b.height > box.y + box.height;
          }).map((g) => g.dataset.id);
        })(),
        headerConflicts: document.querySelector("#conflict-count").textContent,
      })));
      await shoot("graph");
      if (env.CLICK === "1" && result.nodes.length) {
        const node = env.CLICK_NODE || result.nodes[0];
        await page.click(`#graph g.node[data-id="${node}"]`);
        await page.waitForSelector("#detail-dependents", TIMEOUT);
        result.clicked = {
          node,
          title: await text("#details h3"),
          services: await texts("#detail-services > li > b"),
          dependencies: await texts("#detail-dependencies > li"),
          dependents: await texts("#detail-dependents > li"),
        };
        await shoot("graph-node");
        const link = await page.$("#graph g.link");
        if (link) {
          const [from, to] = await link.evaluate((g) => [g.dataset.from, g.dataset.to]);
          await link.evaluate((g) => g.dispatchEvent(new MouseEvent("click", { bubbles: true })));
          await page.waitForFunction((t) => {
            const h = document.querySelector("#edge-title");
            return h && h.textContent === t && document.querySelector("#edge-evidence");
          }, `${from} → ${to}`, TIMEOUT);
          result.edge = { from, to, evidence: await texts("#edge-evidence .evidence") };
          await shoot("graph-edge");
        }
      }
      if (env.FOCUS) {
        await page.fill("#search", env.FOCUS);
        await page.press("#search", "Enter");
        await page.waitForFunction((f) => document.querySelector(`#graph g.node.focus[data-id="${f}"]`), env.FOCUS, TIMEOUT);
        await page.waitForSelector("#detail-dependents", TIMEOUT);
        result.focus = await page.evaluate(() => ({
          nodes: [...document.querySelectorAll("#graph g.node")].map((g) => g.dataset.id),
          shown: Number(document.querySelector("#graph").dataset.shown),
          meta: document.querySelector("#graph-meta").textContent,
        }));
        await shoot("graph-focus");
      }
    } else if (view === "conflicts") {
      result.meta = await text("#conflicts-meta");
      result.ids = await page.evaluate(() => [...document.querySelectorAll("#conflicts tr.conflict")].map((tr) => tr.dataset.id));
      result.rows = await page.evaluate(() => [...document.querySelectorAll("#conflicts tr.conflict")]
        .map((tr) => [...tr.children].slice(0, 5).map((td) => td.textContent.trim())));
      await shoot("conflicts");
      if (env.DRY_RUN === "1" && result.ids.length) {
        // The first conflict (of the first ten) with a proposal to dry-run.
        let button = null;
        for (const open of (await page.$$("#conflicts tr.conflict button.open")).slice(0, 10)) {
          await open.click();
          const detail = await page.waitForSelector("#conflicts tr.detail:not([hidden])", TIMEOUT);
          button = await detail.$(".dry-run-button");
          if (button) break;
          await open.click();
        }
        if (button) {
          await button.click();
          await page.waitForSelector("#conflicts .dry-run h3", TIMEOUT);
          result.dryRun = {
            title: await text("#conflicts .dry-run h3"),
            diffs: await texts("#conflicts .dry-run pre.diff"),
            error: await text("#conflicts .dry-run .error"),
          };
          await page.$eval("#conflicts .dry-run", (e) => e.scrollIntoView());
          await shoot("conflicts-dry-run");
        }
      }
    } else if (view === "deployments") {
      await page.waitForFunction(() => document.querySelector("#live").textContent.startsWith("live"), null, TIMEOUT);
      result.deployments = await page.evaluate(() => [...document.querySelectorAll("#deployments .deployment")].map((d) => ({
        id: d.dataset.id,
        phases: [...d.querySelectorAll(".phase")].map((p) => [...p.querySelectorAll(".repo")].map((r) => r.dataset.repository)),
        statuses: [...d.querySelectorAll(".repo")].map((r) => r.className.replace("repo ", "")),
        rollback: d.querySelector(".rollback") ? d.querySelector(".rollback").textContent : null,
      })));
      result.empty = await text("#no-deployments");
      if (env.DEPLOYMENT) {
        const mine = result.deployments.find((d) => d.id === env.DEPLOYMENT);
        const first = mine ? mine.phases[0] : [];
        for (const repository of first) {
          const response = await fetch(`${base}/api/coordination/deployments/${env.DEPLOYMENT}/events`, {
            method: "POST",
            headers: { "content-type": "application/json", authorization: "Bearer " + token },
            body: JSON.stringify({ repository, status: "started" }),
          });
          if (!response.ok) errors.push(`report ${repository} started: ${response.status} ${await response.text()}`);
        }
        await page.waitForFunction(([id, names]) => names.every((n) =>
          document.querySelector(`.deployment[data-id="${id}"] .repo.started[data-repository="${n}"]`)),
        [env.DEPLOYMENT, first], TIMEOUT);
        result.live = { started: first, badge: await text("#live") };
      }
      await shoot("deployments");
    } else if (view === "resources") {
      result.meta = await text("#resources-meta");
      result.rows = await cells("#resources");
      await shoot("resources");
    } else if (view === "alerts") {
      result.rows = await cells("#alerts");
      await shoot("alerts");
      if (env.ACKNOWLEDGE === "1") {
        await page.click("#alerts button");
        await page.waitForFunction(() => !document.querySelector("#alerts button"), null, TIMEOUT);
        result.afterAcknowledge = await cells("#alerts");
      }
    } else if (view === "health") {
      await page.waitForFunction(() => document.querySelectorAll("#fleet tr").length > 1, null, TIMEOUT);
      result.health = await text("#health");
      result.components = await cells("#components");
      result.fleet = await cells("#fleet");
      result.operations = await cells("#operations");
      await shoot("health");
    }
    seen[view] = result;
  }
  console.log(JSON.stringify({ ...seen, errors }));
} catch (failure) {
  // What was seen up to the failure, so the Rust test's message shows where it stopped.
  console.log(JSON.stringify({ ...seen, errors, failure: String(failure) }));
  process.exitCode = 1;
} finally {
  await browser.close();
}
