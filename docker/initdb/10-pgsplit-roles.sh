#!/usr/bin/env bash
# Runs once, when the primary's data directory is created (postgres image's initdb hook): the
# application's role and database, and a replication role for the streaming replica.
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER}" --dbname postgres <<SQL
CREATE ROLE app LOGIN PASSWORD '${APP_DB_PASSWORD}';
CREATE DATABASE app OWNER app;
CREATE ROLE replicator LOGIN REPLICATION PASSWORD '${REPLICATION_PASSWORD}';
SQL
# The image allows every database over the network with SCRAM; replication needs its own line.
echo "host replication replicator all scram-sha-256" >> "${PGDATA}/pg_hba.conf"
