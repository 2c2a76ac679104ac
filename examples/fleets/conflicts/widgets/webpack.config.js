// widgets: a Module Federation remote (weather, calendar) loaded by the portal shell.
const { ModuleFederationPlugin } = require('webpack').container;

module.exports = {
  entry: './src/index.js',
  output: { publicPath: 'auto' },
  devServer: {
    port: 3200,
    headers: { 'Access-Control-Allow-Origin': '*' },
  },
  plugins: [
    new ModuleFederationPlugin({
      name: 'widgets',
      filename: 'remoteEntry.js',
      exposes: {
        './Weather': './src/Weather',
        './Calendar': './src/Calendar',
      },
      shared: {
        react: { singleton: true, requiredVersion: '^17.0.2' },
      },
    }),
  ],
};
