-- Runs once, when the PostgreSQL data volume is first initialised (docker-entrypoint-initdb.d), after
-- postgres-init.sh has made the roles. Each database belongs to the role that sets up its schema.
CREATE DATABASE safeguarding OWNER safeguarding_owner;
CREATE DATABASE temporal OWNER temporal;
CREATE DATABASE temporal_visibility OWNER temporal;

-- Nobody connects to a database unless named here (PUBLIC may, by default).
REVOKE ALL ON DATABASE safeguarding FROM PUBLIC;
REVOKE ALL ON DATABASE temporal FROM PUBLIC;
REVOKE ALL ON DATABASE temporal_visibility FROM PUBLIC;
GRANT CONNECT ON DATABASE safeguarding TO safeguarding_app;

-- The read model's schema belongs to its owner; the service's role may use it, not create in it.
\connect safeguarding
ALTER SCHEMA public OWNER TO safeguarding_owner;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO safeguarding_app;
