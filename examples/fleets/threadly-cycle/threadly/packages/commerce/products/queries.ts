import { getCacheService } from '@repo/cache';
import { CACHE_TTL } from '@repo/cache/types';
import { database } from '@repo/database';

export async function getProducts(filters: Record<string, unknown>) {
  const cache = getCacheService();

  return cache.remember(
    `products:${JSON.stringify(filters)}`,
    async () =>
      database.product.findMany({
        where: filters,
        include: { seller: true, images: true, category: true },
      }),
    CACHE_TTL.MEDIUM
  );
}
