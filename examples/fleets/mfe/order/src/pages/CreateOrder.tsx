// order-mfe/src/pages/CreateOrder.tsx
import React, { Suspense } from 'react';
import { useOrderStore } from '../state/store';

const ProductSelector = React.lazy(() => import('productModule/ProductSelector'));

const CreateOrder = () => {
  const { addToCart } = useOrderStore();

  return (
    <Suspense fallback="Loading...">
      <ProductSelector onSelect={addToCart} />
    </Suspense>
  );
};

export default CreateOrder;
