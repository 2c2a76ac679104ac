import React from 'react';
import { BrowserRouter, Route, Routes } from 'react-router-dom';
import MainLayout from './shell/components/MainLayout';
import CreateOrder from './pages/CreateOrder';

export default function App() {
  return (
    <BrowserRouter>
      <MainLayout>
        <Routes>
          <Route path="/" element={<CreateOrder />} />
        </Routes>
      </MainLayout>
    </BrowserRouter>
  );
}
