// config.ts
export const config = {
  api: {
    baseUrl: import.meta.env.VITE_API_BASE_URL || 'http://localhost:5000',
    socketUrl: import.meta.env.VITE_SOCKET_URL || 'http://localhost:5000',
    timeout: 30000,
  },
  gemini: {
    apiKey: import.meta.env.VITE_GEMINI_API_KEY,
  },
  debug: {
    enabled: import.meta.env.VITE_ENABLE_DEBUG === 'true',
    socketLogs: import.meta.env.VITE_ENABLE_SOCKET_LOGS === 'true',
  },
};
