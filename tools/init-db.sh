#!/bin/sh
# Create the SQLite database from schema.sql when it does not exist yet.
# Usage: tools/init-db.sh [DB_PATH]   (default: $GOLIVE_DB or ${GOLIVE_RUNDIR:-var}/golive.db)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
db=${1:-${GOLIVE_DB:-${GOLIVE_RUNDIR:-var}/golive.db}}
mkdir -p "$(dirname "$db")"
if [ -s "$db" ]; then
    v=$(sqlite3 "$db" 'PRAGMA user_version;')
    echo "init-db: $db exists (schema version $v)"
    exit 0
fi
sqlite3 "$db" <"$top/schema.sql" >/dev/null
echo "init-db: created $db (schema version $(sqlite3 "$db" 'PRAGMA user_version;'))"
