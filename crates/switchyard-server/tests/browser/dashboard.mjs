// Opens the dashboard (GET /) of a running server in headless Chromium and reports, as one JSON
// line on stdout, what a person would see: the graph's nodes, the deployment order, the health
// badge, the table rows, and every console or page error.
//
// With ACKNOWLEDGE=1 it then clicks the first alert's "acknowledge" button and reports the
// alerts table once the page has re-read it.
//
// Usage: node dashboard.mjs BASE_URL [TOKEN] [SCREENSHOT.png]
import { chromium } from "playwright-core";

const [base, token = "", screenshot] = process.argv.slice(2);
if (!base) {
  console.error("usage: node dashboard.mjs BASE_URL [TOKEN] [SCREENSHOT.png]");
  process.exit(2);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});
const errors = [];
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on("console", (message) => {
    if (message.type() === "error") errors.push("console: " + message.text());
  });
  page.on("pageerror", (error) => errors.push("page: " + error.message));
  if (token) {
    await page.addInitScript((t) => localStorage.setItem("switchyard-token", t), token);
  }
  await page.goto(base + "/", { waitUntil: "load" });
  await page.waitForSelector("#graph g.node", { timeout: 10000 });
  await page.waitForFunction(() => document.querySelector("#health").textContent !== "…", null, { timeout: 10000 });
  // Each table is drawn by its own request: wait until all of them have arrived.
  await page.waitForFunction(
    () => document.querySelectorAll("#operations tr").length > 1 &&
      ["components", "alerts", "resources"].every((id) => document.querySelectorAll(`#${id} tr`).length > 0),
    null, { timeout: 10000 });
  const seen = await page.evaluate(() => {
    const cells = (id) => [...document.querySelectorAll(`#${id} tr`)].map((tr) =>
      [...tr.children].map((td) => td.textContent.trim()));
    return {
      nodes: [...document.querySelectorAll("#graph g.node text")].map((t) => t.textContent),
      cycleNodes: [...document.querySelectorAll("#graph g.node.cycle text")].map((t) => t.textContent),
      edges: document.querySelectorAll("#graph path.edge").length,
      order: document.querySelector("#order").textContent,
      meta: document.querySelector("#graph-meta").textContent,
      health: document.querySelector("#health").textContent,
      components: cells("components"),
      alerts: cells("alerts"),
      resources: cells("resources"),
      operations: cells("operations"),
      message: document.querySelector("#message").textContent,
    };
  });
  if (process.env.ACKNOWLEDGE === "1") {
    await page.click("#alerts button");
    await page.waitForFunction(() => !document.querySelector("#alerts button"), null, { timeout: 10000 });
    seen.alertsAfterAcknowledge = await page.evaluate(() => [...document.querySelectorAll("#alerts tr")]
      .map((tr) => [...tr.children].map((td) => td.textContent.trim())));
  }
  if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
  console.log(JSON.stringify({ ...seen, errors }));
} finally {
  await browser.close();
}
