import { getCacheService } from '@repo/cache';
import { database } from '@repo/database';
import { create } from 'zustand';

type CartState = {
  userId: string | null;
  items: unknown[];
  syncWithDatabase: (userId: string) => Promise<void>;
  persistToCache: () => Promise<void>;
};

export const useCartStore = create<CartState>((set, get) => ({
  userId: null,
  items: [],

  // Sync with database
  syncWithDatabase: async (userId: string) => {
    const cart = await database.cart.findUnique({
      where: { userId },
      include: { items: { include: { product: true } } },
    });
    set({ userId, items: cart?.items || [] });
  },

  // Cache cart state
  persistToCache: async () => {
    const cache = getCacheService();
    await cache.set(`cart:${get().userId}`, get().items, { ttl: 3600 });
  },
}));
