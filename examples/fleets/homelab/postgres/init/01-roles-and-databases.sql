-- Runs once, on an empty data directory. Passwords are set afterwards with \password.
CREATE ROLE auth LOGIN;
CREATE DATABASE auth OWNER auth;

CREATE ROLE api LOGIN;
CREATE DATABASE api OWNER api;

-- Read-only role for monitoring/postgres-exporter.
CREATE ROLE postgres_exporter LOGIN;
GRANT pg_monitor TO postgres_exporter;
