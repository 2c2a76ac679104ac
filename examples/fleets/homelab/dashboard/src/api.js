// Thin client for the homelab API; base URL injected at container start (env.js).
const base = (window.__ENV__ && window.__ENV__.API_URL) || "https://api.homelab.lan";

export async function getJson(path) {
  const res = await fetch(`${base}${path}`, { credentials: "include" });
  if (!res.ok) throw new Error(`${res.status} ${res.statusText}`);
  return res.json();
}
