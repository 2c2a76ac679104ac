// portal shell: the Module Federation host that loads the widgets remote.
const Dotenv = require('dotenv-webpack');
const { ModuleFederationPlugin } = require('webpack').container;

module.exports = {
  entry: './src/index.js',
  output: { publicPath: 'auto' },
  devServer: {
    port: 3100,
    historyApiFallback: true,
  },
  plugins: [
    new ModuleFederationPlugin({
      name: 'shell',
      remotes: {
        widgets: 'widgets@http://localhost:3200/remoteEntry.js',
      },
      shared: {
        react: { singleton: true, requiredVersion: '^18.3.1' },
        'react-dom': { singleton: true, requiredVersion: '^18.3.1' },
      },
    }),
    new Dotenv(),
  ],
};
