// Picks config/<APP_ENV>.json at build time (APP_ENV comes from eas.json profiles).
import development from "../config/development.json";
import staging from "../config/staging.json";
import production from "../config/production.json";

const byEnv = { development, staging, production };

export default byEnv[process.env.APP_ENV || "development"];
