// CodeJoin API entry point: Express + socket.io on one HTTP server.
require("dotenv").config();
const http = require("http");
const express = require("express");
const cors = require("cors");
const config = require("config");
const { Server } = require("socket.io");
const dynamicCors = require("./middleware/dynamic-cors");

const app = express();
const allowedOrigins = (process.env.CORS_ORIGINS || "http://localhost:3000").split(",");

const corsOptions = {
  origin(origin, callback) {
    // Allow requests with no origin (like mobile apps or Postman)
    if (!origin || allowedOrigins.includes(origin)) return callback(null, true);
    return callback(new Error("Not allowed by CORS"));
  },
  credentials: config.get("cors.credentials"),
  optionsSuccessStatus: config.get("cors.optionsSuccessStatus"),
};

app.use(cors(corsOptions));
app.use(dynamicCors);
app.use(express.json({ limit: "1mb" }));

app.get("/health", (req, res) => {
  res.json({ status: "OK", timestamp: new Date().toISOString(), uptime: process.uptime() });
});

const server = http.createServer(app);
const io = new Server(server, {
  path: config.get("socket.path"),
  cors: { origin: allowedOrigins, credentials: true },
});

io.on("connection", (socket) => {
  socket.on("join-room", (roomId) => socket.join(roomId));
  socket.on("code-change", ({ roomId, code }) => socket.to(roomId).emit("code-update", code));
});

const port = Number(process.env.PORT || config.get("server.port"));
server.listen(port, () => console.log(`CodeJoin backend listening on ${port}`));
