import { BackendSyncedCacheService } from "mfe-shared-cache";

// Every micro-frontend must sync with the same backend, or they never see each other's writes.
export const sharedCache = new BackendSyncedCacheService({
  backendUrl: process.env.CACHE_BACKEND_URL,
  syncInterval: Number(process.env.CACHE_SYNC_INTERVAL_MS),
});
