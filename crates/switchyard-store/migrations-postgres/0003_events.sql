-- The cluster-wide event log: every event a replica publishes, in one order for all replicas
-- (`seq`), relayed to the other replicas' subscribers through LISTEN/NOTIFY and a poll of this
-- table. Old rows are deleted by the leading replica (retention).
CREATE TABLE IF NOT EXISTS events (
    seq           BIGSERIAL PRIMARY KEY,
    event_id      TEXT NOT NULL,                  -- evt_<ULID>, what clients see as `id`
    name          TEXT NOT NULL,
    origin        TEXT NOT NULL,                  -- the publishing replica
    data          JSONB NOT NULL,
    published_at  TEXT NOT NULL,                  -- RFC 3339, the publisher's timestamp
    created_at_ms BIGINT NOT NULL                 -- the database's clock
);

CREATE INDEX IF NOT EXISTS events_by_age ON events (created_at_ms);
