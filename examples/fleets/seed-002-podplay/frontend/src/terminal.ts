// The terminal relay speaks plain WebSocket (the `ws` package), not Socket.IO.
export function openTerminal(sessionId: string): WebSocket {
  const ws = new WebSocket(`${import.meta.env.VITE_TERMINAL_WS_URL}?session=${sessionId}`);
  ws.binaryType = "arraybuffer";
  return ws;
}
