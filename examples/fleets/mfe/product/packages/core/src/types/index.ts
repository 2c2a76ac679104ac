export interface Product {
  id: string;
  sku: string;
  name: string;
  price: number;
  currency: 'EUR' | 'USD';
  stock: number;
}

export interface ProductQuery {
  search?: string;
  category?: string;
  page?: number;
}
