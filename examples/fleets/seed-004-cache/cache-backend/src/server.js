const express = require("express");
const cors = require("cors");

const app = express();
const origins = (process.env.CORS_ORIGINS || "").split(",");
app.use(cors({ origin: origins.includes("*") ? "*" : origins }));
app.use(express.json());

// POST /api/cache/sync, /set, /remove, /clear (see the shared-cache README)
app.use("/api/cache", require("./routes/cache"));

app.listen(Number(process.env.PORT || 4000));
