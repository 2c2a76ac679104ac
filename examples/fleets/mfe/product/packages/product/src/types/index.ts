export type { Product, ProductQuery } from '@product-monorepo/core/src/types';
