import { getCacheService } from '@repo/cache';
import { CACHE_TTL } from '@repo/cache/types';
import { database } from '@repo/database';
import type { SearchEngine, SearchFilters, SearchProduct } from './types';

export class MarketplaceSearchService {
  private cacheService = getCacheService();

  constructor(private searchEngine: SearchEngine) {}

  async search(filters: SearchFilters, page = 0, hitsPerPage = 20) {
    const cacheKey = `search:${JSON.stringify(filters)}:${page}:${hitsPerPage}`;
    const cachedResult = await this.cacheService.getSearchResults(cacheKey);
    if (cachedResult) {
      return cachedResult;
    }
    const result = await this.searchEngine.search(filters, page, hitsPerPage);
    await this.cacheService.cacheSearchResults(cacheKey, result);
    return result;
  }

  async remember<T>(key: string, fetcher: () => Promise<T>, ttl: number = CACHE_TTL.MEDIUM): Promise<T> {
    return this.cacheService.remember(key, fetcher, ttl);
  }

  async indexProduct(productId: string): Promise<void> {
    const product = await database.product.findUnique({
      where: { id: productId },
      include: {
        category: true,
        seller: { select: { firstName: true, lastName: true } },
        images: true,
        _count: { select: { favorites: true } },
      },
    });
    if (!product) return;
    await this.searchEngine.updateProduct(product as unknown as SearchProduct);
    await this.cacheService.invalidateProduct(productId);
  }
}
