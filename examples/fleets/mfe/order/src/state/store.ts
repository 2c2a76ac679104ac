// order-mfe/src/state/store.ts
import { create } from 'zustand';

type CartItem = { product: { id: string; price: number }; quantity: number };

const calculateTotal = (items: CartItem[]) =>
  items.reduce((sum, i) => sum + i.product.price * i.quantity, 0);

export const useOrderStore = create<{
  cart: { items: CartItem[]; total: number };
  loading: boolean;
  error: string | null;
  addToCart: (product: CartItem['product'], quantity: number) => void;
  setError: (message: string) => void;
}>((set) => ({
  cart: { items: [], total: 0 },
  loading: false,
  error: null,
  addToCart: (product, quantity) =>
    set((state) => {
      const items = [...state.cart.items, { product, quantity }];
      return { cart: { items, total: calculateTotal(items) } };
    }),
  setError: (message) => set({ error: message }),
}));
