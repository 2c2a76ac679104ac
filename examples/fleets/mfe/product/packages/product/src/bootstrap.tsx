import React from 'react';
import { createRoot } from 'react-dom/client';
import ProductForm from './components/ProductForm';

createRoot(document.getElementById('root')!).render(<ProductForm onSubmit={() => undefined} />);
