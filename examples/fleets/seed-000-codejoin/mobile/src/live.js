// React Native ships a WebSocket implementation; no extra client library needed.
export function connectLive(onMessage) {
  const ws = new WebSocket(process.env.EXPO_PUBLIC_WS_URL);
  ws.onmessage = (event) => onMessage(JSON.parse(event.data));
  return ws;
}
