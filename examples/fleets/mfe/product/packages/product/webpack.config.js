// product-monorepo/packages/product/webpack.config.js
const path = require('path');
const Dotenv = require('dotenv-webpack');
const HtmlWebpackPlugin = require('html-webpack-plugin');
const { ModuleFederationPlugin } = require('webpack').container;

module.exports = {
  entry: './src/index.ts',
  output: {
    publicPath: 'auto',
    path: path.resolve(__dirname, 'dist'),
    clean: true,
  },
  resolve: {
    extensions: ['.tsx', '.ts', '.js'],
  },
  devServer: {
    port: 3001,
    historyApiFallback: true,
    // The order shell on :3000 loads remoteEntry.js from here.
    headers: { 'Access-Control-Allow-Origin': '*' },
  },
  module: {
    rules: [{ test: /\.tsx?$/, loader: 'ts-loader', exclude: /node_modules/ }],
  },
  plugins: [
    new ModuleFederationPlugin({
      name: 'product_management',
      filename: 'remoteEntry.js',
      exposes: {
        './ProductService': './src/services/ProductService',
        './ProductForm': './src/components/ProductForm',
        './ProductSelector': './src/components/ProductSelector',
        './types': './src/types/index',
      },
      shared: {
        react: { singleton: true, requiredVersion: '^18.2.0' },
        'react-dom': { singleton: true, requiredVersion: '^18.2.0' },
      },
    }),
    new Dotenv(),
    new HtmlWebpackPlugin({ template: './public/index.html' }),
  ],
};
