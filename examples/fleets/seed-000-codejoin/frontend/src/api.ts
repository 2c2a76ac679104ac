import { io } from "socket.io-client";

export const apiUrl = import.meta.env.VITE_API_URL;
export const socket = io(import.meta.env.VITE_SOCKET_URL, { transports: ["websocket"] });

export async function execute(language: string, code: string) {
  const res = await fetch(`${apiUrl}/api/execute`, {
    method: "POST",
    credentials: "include",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ language, code }),
  });
  return res.json();
}
