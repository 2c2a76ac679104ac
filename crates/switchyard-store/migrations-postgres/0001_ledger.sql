-- The shared-resource ledger on PostgreSQL: the same tables as the SQLite engine's, so both
-- engines share one set of rules and row shapes. Instants are Unix milliseconds (BIGINT).
-- Applied by `PgStore::open` under an advisory lock, so replicas starting at once are safe.

CREATE TABLE IF NOT EXISTS resources (
    id               TEXT PRIMARY KEY,            -- type:identifier
    type             TEXT NOT NULL,
    identifier       TEXT NOT NULL,
    capacity         BIGINT NOT NULL CHECK (capacity >= 1),
    metadata         TEXT NOT NULL DEFAULT '{}',  -- JSON object
    registered_at_ms BIGINT NOT NULL,
    UNIQUE (type, identifier)
);

-- A claim decision locks its resource row (SELECT ... FOR UPDATE), then reads these rows.
CREATE TABLE IF NOT EXISTS claims (
    claim_id       TEXT PRIMARY KEY,              -- claim_<ULID>
    resource_id    TEXT NOT NULL REFERENCES resources (id),
    repository     TEXT NOT NULL,
    operation      TEXT NOT NULL,
    exclusive      BOOLEAN NOT NULL,
    ttl_seconds    BIGINT,
    claimed_at_ms  BIGINT NOT NULL,
    expires_at_ms  BIGINT                         -- NULL: held until released
);

CREATE INDEX IF NOT EXISTS claims_by_resource ON claims (resource_id, expires_at_ms);

CREATE TABLE IF NOT EXISTS history (
    seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          TEXT NOT NULL,                    -- RFC 3339 UTC
    at_ms       BIGINT NOT NULL,
    resource_id TEXT NOT NULL,                    -- kept after the resource is deleted
    action      TEXT NOT NULL,
    claim_id    TEXT,
    repository  TEXT,
    details     TEXT NOT NULL DEFAULT '{}'        -- JSON object
);

CREATE INDEX IF NOT EXISTS history_by_resource ON history (resource_id, seq);
CREATE INDEX IF NOT EXISTS history_by_age ON history (at_ms);
