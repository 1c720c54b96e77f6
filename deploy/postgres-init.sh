#!/bin/sh
# Runs once, when the PostgreSQL data volume is first initialised (docker-entrypoint-initdb.d, before
# postgres-init.sql): the three login roles, their passwords read from the environment. A .sql script
# cannot read the environment; psql's :'variable' quotes each password as a literal.
#
#   safeguarding_owner  owns the safeguarding database and its schema; only the migration step uses it
#   safeguarding_app    what the API and the worker connect as: owns nothing, holds only what the
#                       migration step grants (python -m safeguarding.store.migration)
#   temporal            owns Temporal's two databases (its schema is set up by temporal-admin-tools)
#
# None of them is a superuser or may create roles or databases. The superuser (POSTGRES_USER) is used
# by this script only.
set -e

: "${SAFEGUARDING_OWNER_PASSWORD:?set SAFEGUARDING_OWNER_PASSWORD}"
: "${SAFEGUARDING_APP_PASSWORD:?set SAFEGUARDING_APP_PASSWORD}"
: "${TEMPORAL_DB_PASSWORD:?set TEMPORAL_DB_PASSWORD}"

psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname postgres \
    -v owner_password="$SAFEGUARDING_OWNER_PASSWORD" \
    -v app_password="$SAFEGUARDING_APP_PASSWORD" \
    -v temporal_password="$TEMPORAL_DB_PASSWORD" <<'SQL'
CREATE ROLE safeguarding_owner LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'owner_password';
CREATE ROLE safeguarding_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'app_password';
CREATE ROLE temporal LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'temporal_password';
SQL
