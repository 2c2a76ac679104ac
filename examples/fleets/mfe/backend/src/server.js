require('dotenv').config();
const express = require('express');
const cors = require('cors');
const cacheRoutes = require('./routes/cache');

const app = express();
app.use(cors({ origin: (process.env.CORS_ORIGINS || '').split(','), credentials: true }));
app.use(express.json({ limit: '256kb' }));
app.use(cacheRoutes);

const port = Number(process.env.PORT || 4000);
app.listen(port, () => console.log(`cache backend on :${port}`));
