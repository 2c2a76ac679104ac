// Admin tools: inspect and clear the shared cache.
export async function clearCache(): Promise<void> {
  await fetch(`${import.meta.env.VITE_CACHE_URL}/clear`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ timestamp: Date.now() }),
  });
}
