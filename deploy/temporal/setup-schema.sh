#!/bin/sh
# Temporal's schema, set up and brought up to date by its own tool (temporalio/admin-tools), once per
# start of the stack, before the server starts (depends_on: service_completed_successfully). Every step
# is safe to repeat: an existing database is kept, a schema already at a version is not set up again,
# and update-schema applies only the versions not yet applied. After an upgrade of the server image,
# upgrade the admin-tools image with it: its schema directory is the one the new server expects.
#
# The connection comes from the tool's own variables: SQL_PLUGIN, SQL_HOST, SQL_PORT, SQL_USER,
# SQL_PASSWORD (the temporal role, which owns both databases: deploy/postgres-init.sql).
set -eu

SCHEMA_DIR=${SCHEMA_DIR:-/etc/temporal/schema/postgresql/v12}

for database in temporal temporal_visibility; do
    case $database in
        temporal) versioned=$SCHEMA_DIR/temporal/versioned ;;
        *) versioned=$SCHEMA_DIR/visibility/versioned ;;
    esac
    # The databases are made by deploy/postgres-init.sql, owned by the temporal role, which may not
    # create databases: PostgreSQL refuses it even for one that exists, so a refusal here is not an
    # error (--quiet). Where the role may (CREATEDB), a missing database is made. Either way the next
    # step fails if the database is not there.
    temporal-sql-tool --quiet --db "$database" create-database
    temporal-sql-tool --db "$database" setup-schema -v 0.0
    temporal-sql-tool --db "$database" update-schema -d "$versioned"
    echo "$database: schema up to date"
done
