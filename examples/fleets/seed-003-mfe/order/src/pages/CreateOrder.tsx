import React, { Suspense } from "react";

const ProductSelector = React.lazy(() => import("productModule/ProductSelector"));
const StockBadge = React.lazy(() => import("inventory/StockBadge"));
const CheckoutButton = React.lazy(() => import("checkout/CheckoutButton"));

export default function CreateOrder() {
  return (
    <Suspense fallback="Loading...">
      <ProductSelector />
      <StockBadge />
      <CheckoutButton />
    </Suspense>
  );
}
