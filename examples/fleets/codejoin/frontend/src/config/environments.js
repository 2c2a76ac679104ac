// config/environments.js
const environments = {
  development: {
    API_URL: process.env.REACT_APP_API_URL || "http://localhost:3001",
    WS_URL: process.env.REACT_APP_WS_URL || "ws://localhost:3001",
    ENVIRONMENT: "development",
  },
  staging: {
    API_URL: "https://codejoin-backend-staging.onrender.com",
    WS_URL: "wss://codejoin-backend-staging.onrender.com",
    ENVIRONMENT: "staging",
  },
  production: {
    API_URL: "https://codejoin-backend-production.onrender.com",
    WS_URL: "wss://codejoin-backend-production.onrender.com",
    ENVIRONMENT: "production",
  },
};

const getEnvironment = () => {
  const hostname = window.location.hostname;

  if (hostname === "localhost" || hostname === "127.0.0.1") {
    return environments.development;
  } else if (hostname.includes("staging") || hostname.includes("preview")) {
    return environments.staging;
  } else {
    return environments.production;
  }
};

export default getEnvironment();
