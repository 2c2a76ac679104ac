require("dotenv").config();
const http = require("http");
const express = require("express");
const cors = require("cors");
const { Server } = require("socket.io");

const app = express();
const allowedOrigins = (process.env.CORS_ORIGINS || "").split(",");
app.use(cors({ origin: allowedOrigins, credentials: true }));
app.use(express.json());

app.get("/health", (_req, res) => res.json({ status: "OK" }));

const server = http.createServer(app);
// Collaborative editing and terminal output go over Socket.IO (default path /socket.io/).
const io = new Server(server, { cors: { origin: allowedOrigins, credentials: true } });
io.on("connection", (socket) => {
  socket.on("join_room", (room) => socket.join(room));
});

server.listen(process.env.PORT || 3001);
