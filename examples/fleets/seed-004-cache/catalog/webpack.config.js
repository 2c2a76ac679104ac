const Dotenv = require("dotenv-webpack");
const { ModuleFederationPlugin } = require("webpack").container;

module.exports = {
  entry: "./src/index.js",
  mode: "development",
  devServer: {
    port: 3001,
    headers: { "Access-Control-Allow-Origin": "*" },
  },
  output: { publicPath: "auto" },
  plugins: [
    new Dotenv(),
    new ModuleFederationPlugin({
      name: "catalog",
      filename: "remoteEntry.js",
      exposes: {
        "./ProductGrid": "./src/ProductGrid",
      },
      shared: {
        react: { singleton: true, requiredVersion: "^18.2.0" },
        "react-dom": { singleton: true, requiredVersion: "^18.2.0" },
        "mfe-shared-cache": { singleton: true, requiredVersion: "^1.4.0" },
      },
    }),
  ],
};
