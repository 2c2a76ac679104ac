const { ModuleFederationPlugin } = require("webpack").container;

module.exports = {
  entry: "./src/index.ts",
  mode: "development",
  devServer: {
    port: 3001,
    headers: { "Access-Control-Allow-Origin": "*" },
  },
  output: { publicPath: "auto" },
  plugins: [
    new ModuleFederationPlugin({
      name: "product_management",
      filename: "remoteEntry.js",
      exposes: {
        "./ProductService": "./src/services/ProductService",
        "./ProductSelector": "./src/components/ProductSelector",
      },
      shared: {
        react: { singleton: true, requiredVersion: "^18.2.0" },
        "react-dom": { singleton: true, requiredVersion: "^18.2.0" },
        "@mui/material": { singleton: true, requiredVersion: "^5.15.0" },
        lodash: { requiredVersion: "^4.17.21" },
      },
    }),
  ],
};
