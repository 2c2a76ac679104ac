const { WebSocketServer } = require("ws");
const pty = require("node-pty");

const wss = new WebSocketServer({ port: Number(process.env.PORT || 5000), path: "/terminal" });
wss.on("connection", (socket) => {
  const shell = pty.spawn("bash", [], { cols: 120, rows: 40 });
  shell.onData((data) => socket.send(data));
  socket.on("message", (data) => shell.write(data.toString()));
  socket.on("close", () => shell.kill());
});
