# Source this: installs (if needed) and starts a PostgreSQL and a redis-server on loopback for
# the tests that need real servers, and exports the URLs the suite reads.
set -euo pipefail

if ! command -v redis-server >/dev/null || ! command -v pg_ctlcluster >/dev/null; then
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql redis-server >/dev/null
fi

# PostgreSQL: the distribution's cluster, a password for TCP logins, a database for the tests.
pg_version=$(ls /usr/lib/postgresql | sort -n | tail -1)
pg_lsclusters -h | grep -q "^$pg_version main" || pg_createcluster "$pg_version" main >/dev/null
pg_lsclusters -h | grep "^$pg_version main" | grep -q online || pg_ctlcluster "$pg_version" main start
pg_port=$(pg_lsclusters -h | awk -v v="$pg_version" '$1 == v && $2 == "main" {print $3}')
su postgres -c "psql -q -p $pg_port -c \"ALTER USER postgres PASSWORD 'postgres'\""
su postgres -c "psql -q -p $pg_port -tc \"SELECT 1 FROM pg_database WHERE datname = 'yolohost_test'\"" | grep -q 1 \
    || su postgres -c "createdb -p $pg_port yolohost_test"
export YOLOHOST_TEST_DATABASE_URL="postgresql://postgres:postgres@127.0.0.1:$pg_port/yolohost_test"

# Redis: a throwaway server on its own port, no persistence.
redis_port=6399
redis-cli -p "$redis_port" ping >/dev/null 2>&1 \
    || redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes >/dev/null
export YOLOHOST_TEST_REDIS_URL="redis://127.0.0.1:$redis_port/0"
set +euo pipefail
