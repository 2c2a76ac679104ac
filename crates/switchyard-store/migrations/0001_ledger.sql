-- The shared-resource ledger. Instants are Unix milliseconds (UTC) in INTEGER columns so that
-- expiry is a cheap comparison in every query; history also keeps RFC 3339 text for people.

CREATE TABLE IF NOT EXISTS resources (
    id               TEXT PRIMARY KEY NOT NULL,   -- type:identifier
    type             TEXT NOT NULL,
    identifier       TEXT NOT NULL,
    capacity         INTEGER NOT NULL CHECK (capacity >= 1),
    metadata         TEXT NOT NULL DEFAULT '{}',  -- JSON object
    registered_at_ms INTEGER NOT NULL,
    UNIQUE (type, identifier)
);

-- WITHOUT ROWID: the claim id is the key, one b-tree instead of a table plus its key index.
CREATE TABLE IF NOT EXISTS claims (
    claim_id       TEXT PRIMARY KEY NOT NULL,     -- claim_<ULID>
    resource_id    TEXT NOT NULL REFERENCES resources (id),
    repository     TEXT NOT NULL,
    operation      TEXT NOT NULL,
    exclusive      INTEGER NOT NULL CHECK (exclusive IN (0, 1)),
    ttl_seconds    INTEGER,
    claimed_at_ms  INTEGER NOT NULL,
    expires_at_ms  INTEGER                        -- NULL: held until released
) WITHOUT ROWID;

-- The only secondary index: every claim decision reads the claims of one resource. The table
-- holds only unexpired-or-unswept claims, so sweeps and repository filters scan it.
CREATE INDEX IF NOT EXISTS claims_by_resource ON claims (resource_id, expires_at_ms);

CREATE TABLE IF NOT EXISTS history (
    seq         INTEGER PRIMARY KEY,              -- rows are never deleted: seq only grows
    at          TEXT NOT NULL,                    -- RFC 3339 UTC, e.g. 2024-05-01T12:00:00.000Z
    at_ms       INTEGER NOT NULL,
    resource_id TEXT NOT NULL,                    -- kept after the resource is deleted
    action      TEXT NOT NULL,
    claim_id    TEXT,
    repository  TEXT,
    details     TEXT NOT NULL DEFAULT '{}'        -- JSON object
);

CREATE INDEX IF NOT EXISTS history_by_resource ON history (resource_id, seq);
