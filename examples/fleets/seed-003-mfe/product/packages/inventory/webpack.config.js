const { ModuleFederationPlugin } = require("webpack").container;

// The dev-server port is given on the command line (package.json "dev").
module.exports = {
  entry: "./src/index.ts",
  mode: "development",
  output: { publicPath: "auto" },
  plugins: [
    new ModuleFederationPlugin({
      name: "inventory",
      filename: "remoteEntry.js",
      exposes: {
        "./StockBadge": "./src/StockBadge",
      },
      shared: {
        react: { singleton: true, requiredVersion: "^18.2.0" },
        "react-dom": { singleton: true, requiredVersion: "^18.2.0" },
      },
    }),
  ],
};
