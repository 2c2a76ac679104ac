export const CACHE_TTL = {
  SHORT: 300, // 5 minutes - Search results, notifications
  MEDIUM: 1800, // 30 minutes - User profiles, categories
  LONG: 3600, // 1 hour - Products, trending data
  VERY_LONG: 86400, // 24 hours - Static content, categories
} as const;

export type CacheTtl = (typeof CACHE_TTL)[keyof typeof CACHE_TTL];
