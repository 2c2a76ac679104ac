// Pulls execution jobs from Postgres, runs them in a sandbox and posts results to the API.
const { Pool } = require("pg");
const pool = new Pool({ connectionString: process.env.DATABASE_URL });
const api = process.env.API_URL;

async function report(jobId, output) {
  await fetch(`${api}/internal/jobs/${jobId}/result`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ output }),
  });
}

module.exports = { pool, report };
