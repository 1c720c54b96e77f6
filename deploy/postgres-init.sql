-- Runs once, when the PostgreSQL data volume is first initialised (docker-entrypoint-initdb.d).
-- The read model lives in its own database; Temporal's auto-setup creates its own
-- "temporal" and "temporal_visibility" databases.
CREATE DATABASE safeguarding;
