// Shared by every view: the API client (bearer token from the header field, JSON errors shown
// as the API wrote them), DOM builders that only ever set text (names come from repositories,
// never trusted as HTML), and the message line.

export function $(id) {
  return document.getElementById(id);
}

export function token() {
  return $("token").value;
}

/** GET or send JSON; a non-2xx answer throws with the API's message. 503 (health) is data. */
export async function api(path, options = {}) {
  const headers = { "content-type": "application/json" };
  if (token()) headers.authorization = "Bearer " + token();
  const response = await fetch(path, { ...options, headers });
  const body = await response.json().catch(() => null);
  if (!response.ok && response.status !== 503) {
    const error = new Error(path + ": " + (body && body.message ? body.message : response.status));
    error.status = response.status;
    throw error;
  }
  return body;
}

/** Every item of a paged list (limit 100 per request), at most `cap` of them. */
export async function pages(path, key, cap = 2000) {
  const items = [];
  const join = path.includes("?") ? "&" : "?";
  for (let offset = 0; items.length < cap; offset += 100) {
    const body = await api(`${path}${join}limit=100&offset=${offset}`);
    items.push(...body[key]);
    if (!body.pagination || !body.pagination.hasMore) return { items, body, total: body.pagination ? body.pagination.total : items.length };
  }
  return { items, total: items.length };
}

/** An element with attributes and children (strings become text nodes). */
export function el(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value == null || value === false) continue;
    if (key.startsWith("on")) element.addEventListener(key.slice(2), value);
    else element.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child == null || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

export function svg(name, attributes = {}, text) {
  const element = document.createElementNS("http://www.w3.org/2000/svg", name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  if (text != null) element.textContent = text;
  return element;
}

export function badge(text, extra = "") {
  return el("span", { class: `badge ${text} ${extra}`.trim() }, text);
}

/** Rebuilds a table: a header row, then one row per item. */
export function table(target, headings, rows, empty) {
  target.replaceChildren();
  target.append(el("tr", {}, headings.map((h) => el("th", {}, h))));
  for (const cells of rows) {
    const tr = cells instanceof Node ? cells : el("tr", {}, cells.map((c) => el("td", {}, c)));
    target.append(tr);
  }
  if (!rows.length && empty) target.append(el("tr", {}, el("td", { colspan: headings.length }, empty)));
}

export function show(error) {
  $("message").textContent = String(error && error.message ? error.message : error);
}

export function clearMessage() {
  $("message").textContent = "";
}

/** A unified diff with added, removed and hunk lines marked. */
export function diff(text) {
  const pre = el("pre", { class: "diff" });
  for (const line of text.split("\n")) {
    const kind = line.startsWith("@@") ? "hunk" : line.startsWith("+") && !line.startsWith("+++") ? "add"
      : line.startsWith("-") && !line.startsWith("---") ? "del" : "";
    pre.append(el("span", { class: kind }, line + "\n"));
  }
  return pre;
}

export function when(timestamp) {
  if (!timestamp) return "";
  const date = new Date(timestamp);
  return isNaN(date) ? String(timestamp) : date.toISOString().replace("T", " ").slice(0, 19) + "Z";
}

/** `1 conflict`, `2 conflicts`. */
export function count(n, word, many = word + "s") {
  return `${n} ${n === 1 ? word : many}`;
}
