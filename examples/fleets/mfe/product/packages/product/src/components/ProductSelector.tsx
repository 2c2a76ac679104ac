import React, { useEffect, useState } from 'react';
import productService from '../services/ProductService';
import type { Product } from '../types';

export default function ProductSelector({ onSelect }: { onSelect: (p: Product, qty: number) => void }) {
  const [products, setProducts] = useState<Product[]>([]);
  useEffect(() => { productService.list().then(setProducts); }, []);
  return (
    <ul>
      {products.map((p) => (
        <li key={p.id}>
          {p.name} <button onClick={() => onSelect(p, 1)}>Add</button>
        </li>
      ))}
    </ul>
  );
}
