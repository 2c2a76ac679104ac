import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

export default defineConfig({
  plugins: [react()],
  // Bind to IPv4 loopback only (the VPN client grabs ::1).
  server: { host: "127.0.0.1", port: 5173 },
});
