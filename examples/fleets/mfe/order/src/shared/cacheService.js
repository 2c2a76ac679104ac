// shared/cacheService.js
import { BackendSyncedCacheService } from 'mfe-shared-cache';

export const sharedCache = new BackendSyncedCacheService({
  backendUrl: process.env.CACHE_BACKEND_URL,
  syncInterval: 30000, // 30 seconds
  retryDelay: 5000, // 5 seconds
  maxRetries: 3,
});
