import { io } from "socket.io-client";

export const socket = io(import.meta.env.VITE_SOCKET_URL, {
  path: import.meta.env.VITE_SOCKET_PATH,
  transports: ["websocket", "polling"],
  reconnectionAttempts: 5,
});
