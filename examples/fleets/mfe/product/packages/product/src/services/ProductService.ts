import { BackendSyncedCacheService } from 'mfe-shared-cache';
import type { Product, ProductQuery } from '../types';

const cache = new BackendSyncedCacheService({
  backendUrl: process.env.CACHE_BACKEND_URL,
  syncInterval: 30000,
  retryDelay: 5000,
  maxRetries: 3,
});

export class ProductService {
  async list(query: ProductQuery = {}): Promise<Product[]> {
    const key = `products:${JSON.stringify(query)}`;
    const cached = cache.get(key);
    if (cached) return cached;
    const res = await fetch(`${process.env.API_URL}/products?${new URLSearchParams(query as Record<string, string>)}`);
    const products: Product[] = await res.json();
    await cache.set(key, products, 300);
    return products;
  }
}

export default new ProductService();
