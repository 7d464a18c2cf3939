#!/bin/sh
# Runs once, when the claims-db volume is first initialised (docker-entrypoint-initdb.d): the role the API and the
# workers connect as. It owns nothing; `claimflow migrate`, connecting as the owner (POSTGRES_USER), grants it
# only what the application needs (audit_log: SELECT and INSERT).
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" -v password="$CLAIMS_APP_DB_PASSWORD" <<'SQL'
CREATE ROLE claimflow_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'password';
SQL
