import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// Moved from Create React App (port 3000) to Vite.
export default defineConfig({
  plugins: [react()],
  server: {
    port: 5173,
    strictPort: true,
  },
});
