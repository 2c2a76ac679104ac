const { ModuleFederationPlugin } = require("webpack").container;

module.exports = {
  entry: "./src/index.ts",
  mode: "development",
  devServer: {
    port: 3000,
    historyApiFallback: true,
  },
  output: { publicPath: "auto" },
  plugins: [
    new ModuleFederationPlugin({
      name: "order",
      remotes: {
        productModule: "productModule@http://localhost:3001/remoteEntry.js",
        inventory: "inventory@http://localhost:3004/remoteEntry.js",
        checkout: "checkout@http://localhost:3003/remoteEntry.js",
      },
      shared: {
        react: { singleton: true, requiredVersion: "^18.2.0" },
        "react-dom": { singleton: true, requiredVersion: "^18.2.0" },
        "@mui/material": { singleton: true, requiredVersion: "^5.14.0" },
        lodash: { requiredVersion: "^4.17.15" },
        zustand: { singleton: true, requiredVersion: "^4.5.0" },
      },
    }),
  ],
};
