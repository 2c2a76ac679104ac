const express = require('express');
const router = express.Router();

// key -> { value, ttl, timestamp, deleted }
const store = new Map();

function apply(change) {
  const current = store.get(change.key);
  // Last writer wins by timestamp.
  if (!current || change.timestamp >= current.timestamp) {
    store.set(change.key, change);
  }
}

router.post('/api/cache/sync', (req, res) => {
  const { lastSync = 0, changes = [] } = req.body;
  changes.forEach(apply);
  const updates = [...store.values()].filter((e) => e.timestamp > lastSync);
  res.json({ updates, timestamp: Date.now() });
});

router.post('/api/cache/set', (req, res) => {
  const { key, value, ttl, timestamp } = req.body;
  apply({ key, value, ttl, timestamp, deleted: false });
  res.json({ success: true });
});

router.post('/api/cache/remove', (req, res) => {
  const { key, timestamp } = req.body;
  apply({ key, value: null, ttl: 0, timestamp, deleted: true });
  res.json({ success: true });
});

router.post('/api/cache/clear', (req, res) => {
  const { timestamp } = req.body;
  for (const key of store.keys()) apply({ key, value: null, ttl: 0, timestamp, deleted: true });
  res.json({ success: true });
});

module.exports = router;
