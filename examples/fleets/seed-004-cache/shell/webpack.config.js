const Dotenv = require("dotenv-webpack");
const { ModuleFederationPlugin } = require("webpack").container;

module.exports = {
  entry: "./src/index.js",
  mode: "development",
  devServer: {
    port: 3000,
  },
  output: { publicPath: "auto" },
  plugins: [
    new Dotenv(),
    new ModuleFederationPlugin({
      name: "shell",
      remotes: {
        catalog: "catalog@http://localhost:3001/remoteEntry.js",
      },
      shared: {
        react: { singleton: true, requiredVersion: "^18.2.0" },
        "react-dom": { singleton: true, requiredVersion: "^18.2.0" },
        "mfe-shared-cache": { singleton: true, requiredVersion: "^2.0.0" },
      },
    }),
  ],
};
