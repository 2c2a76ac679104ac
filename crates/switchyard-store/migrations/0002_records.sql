-- The coordinator's own documents: deployments, alerts, conflict history, shared config keys,
-- recorded durations. Each kind is a JSON body per id; the ledger keeps relational tables
-- because claims need atomic decisions in SQL, these only need durable last-write storage.
CREATE TABLE IF NOT EXISTS records (
    kind          TEXT NOT NULL,
    id            TEXT NOT NULL,
    body          TEXT NOT NULL,                  -- JSON
    updated_at_ms INTEGER NOT NULL,
    PRIMARY KEY (kind, id)
) WITHOUT ROWID;

CREATE INDEX IF NOT EXISTS records_by_age ON records (kind, updated_at_ms);
CREATE INDEX IF NOT EXISTS history_by_age ON history (at_ms);
