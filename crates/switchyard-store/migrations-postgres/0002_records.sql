-- The coordinator's own documents (deployments, alerts, conflict history, config-sync keys,
-- recorded durations): one JSON body per kind/id, shared by every replica on this database.
CREATE TABLE IF NOT EXISTS records (
    kind          TEXT NOT NULL,
    id            TEXT NOT NULL,
    body          TEXT NOT NULL,                  -- JSON
    updated_at_ms BIGINT NOT NULL,
    PRIMARY KEY (kind, id)
);

CREATE INDEX IF NOT EXISTS records_by_age ON records (kind, updated_at_ms);
