import React, { Component, type ReactNode } from 'react';

class ErrorBoundary extends Component<{ children: ReactNode }, { error: Error | null }> {
  state = { error: null as Error | null };
  static getDerivedStateFromError(error: Error) {
    return { error };
  }
  render() {
    return this.state.error ? <p>Module failed to load.</p> : this.props.children;
  }
}

export default function MainLayout({ children }: { children: ReactNode }) {
  return (
    <div className="layout">
      <header>Order Management</header>
      <aside>Orders · Customers · Products</aside>
      <main>
        <ErrorBoundary>{children}</ErrorBoundary>
      </main>
    </div>
  );
}
