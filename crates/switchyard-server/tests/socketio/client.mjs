// Connects the real socket.io-client to a Switchyard server and reports on stdout, one JSON
// object per line:
//   {"status":"connected"}                 once connected (and subscribed, when topics given)
//   {"event":"<name>","data":<data>}       for every event received
//   {"status":"done"}                      after the awaited event, then a clean disconnect
// Usage: node client.mjs <url> [awaited event, default resource.claimed] [topics,comma,list]
// Options: SWITCHYARD_TOKEN (sent as ?token=), TRANSPORT=polling|websocket (default both).
// Exit 0 after the awaited event; 1 on a connection error or after 20 s without it.
import { io } from "socket.io-client";

const [url, awaited = "resource.claimed", topics] = process.argv.slice(2);
if (!url) {
  console.error("usage: node client.mjs <url> [event] [topics]");
  process.exit(2);
}
const say = (value) => process.stdout.write(JSON.stringify(value) + "\n");
const fail = (message) => {
  console.error(message);
  process.exit(1);
};
const timer = setTimeout(() => fail(`timeout: no ${awaited} within 20 s`), 20_000);

const options = { reconnection: false, timeout: 10_000 };
if (process.env.SWITCHYARD_TOKEN) options.query = { token: process.env.SWITCHYARD_TOKEN };
if (process.env.TRANSPORT) options.transports = [process.env.TRANSPORT];
const socket = io(url, options);

socket.on("connect_error", (error) => fail(`connect_error: ${error.message}`));
socket.on("connect", async () => {
  if (topics) {
    const reply = await socket.timeout(5_000).emitWithAck("subscribe", topics.split(","));
    if (!reply || reply.success !== true) fail(`subscribe refused: ${JSON.stringify(reply)}`);
  }
  say({ status: "connected", transport: socket.io.engine.transport.name });
});
socket.onAny((event, data) => {
  say({ event, data });
  if (event === awaited) {
    clearTimeout(timer);
    socket.disconnect();
    say({ status: "done" });
    process.exit(0);
  }
});
socket.on("disconnect", (reason) => {
  if (reason !== "io client disconnect") fail(`disconnected: ${reason}`);
});
