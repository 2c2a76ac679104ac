import React, { useState } from 'react';
import type { Product } from '../types';

export default function ProductForm({ onSubmit }: { onSubmit: (p: Partial<Product>) => void }) {
  const [name, setName] = useState('');
  return (
    <form onSubmit={(e) => { e.preventDefault(); onSubmit({ name }); }}>
      <input value={name} onChange={(e) => setName(e.target.value)} placeholder="Product name" />
      <button type="submit">Save</button>
    </form>
  );
}
