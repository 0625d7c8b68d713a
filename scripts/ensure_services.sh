#!/usr/bin/env bash
# Start (and, where missing, install) the local services the product or its tests need.
# Usage: scripts/ensure_services.sh redis [postgres] [rabbitmq] [node] [chromium] [promtool] [sshd]
set -uo pipefail

have() { command -v "$1" >/dev/null 2>&1; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif have sudo; then sudo "$@"; else "$@"; fi; }
apt_install() {
  if ! have apt-get; then echo "error: cannot install $* (no apt-get); install it and re-run" >&2; return 1; fi
  as_root apt-get update -qq >/dev/null && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}
wait_for() { for _ in $(seq 1 50); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done; return 1; }

redis_up() { have redis-cli && redis-cli -h 127.0.0.1 -p 6379 ping | grep -q PONG; }
ensure_redis() {
  redis_up && return 0
  if ! have redis-server; then
    if [ "${TRUSERA_NO_INSTALL:-}" = 1 ]; then
      echo "error: Redis is not installed. Install redis-server (e.g. 'apt-get install redis-server') and re-run." >&2
      return 1
    fi
    echo "Redis is not installed; installing redis-server..." >&2
    apt_install redis-server || return 1
  fi
  echo "Starting Redis on 127.0.0.1:6379..." >&2
  mkdir -p /tmp/trusera-redis
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir /tmp/trusera-redis --logfile /tmp/trusera-redis/redis.log >/dev/null
  wait_for redis_up || { echo "error: Redis did not start (see /tmp/trusera-redis/redis.log)" >&2; return 1; }
}

pg_up() { have pg_isready && pg_isready -h 127.0.0.1 -p 5432 -q; }
ensure_postgres() {
  pg_up && return 0
  if ! have pg_ctlcluster; then
    echo "PostgreSQL is not installed; installing postgresql..." >&2
    apt_install postgresql postgresql-client || return 1
  fi
  local version
  version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
  [ -n "$version" ] || { echo "error: no PostgreSQL cluster found under /etc/postgresql" >&2; return 1; }
  local hba="/etc/postgresql/$version/main/pg_hba.conf"
  if [ -f "$hba" ] && ! grep -q "trusera-test-trust" "$hba"; then
    # Tests connect as postgres over loopback without a password.
    as_root sed -i '1i host all all 127.0.0.1/32 trust # trusera-test-trust\nlocal all all trust # trusera-test-trust' "$hba"
  fi
  echo "Starting PostgreSQL $version..." >&2
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start >/dev/null 2>&1 || true
  wait_for pg_up || { echo "error: PostgreSQL did not start" >&2; return 1; }
  psql -h 127.0.0.1 -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='test'" | grep -q 1 ||
    psql -h 127.0.0.1 -U postgres -d postgres -qc "CREATE DATABASE test" >/dev/null
}

# The AMQP port answers only once the broker accepts connections; no Erlang cookie (root) needed to ask.
rabbit_up() { (exec 3<>/dev/tcp/127.0.0.1/5672) >/dev/null 2>&1; }
ensure_rabbitmq() {
  rabbit_up && return 0
  if ! have rabbitmq-server; then
    if [ "${TRUSERA_NO_INSTALL:-}" = 1 ]; then
      echo "error: RabbitMQ is not installed. Install rabbitmq-server (e.g. 'apt-get install rabbitmq-server') and re-run." >&2
      return 1
    fi
    echo "RabbitMQ is not installed (the scale-out tests run the pipeline on it); installing rabbitmq-server..." >&2
    apt_install rabbitmq-server || return 1
  fi
  rabbit_up && return 0  # the package may have started it
  echo "Starting RabbitMQ on 127.0.0.1:5672..." >&2
  # The wrapper drops to the rabbitmq user when started as root.
  as_root rabbitmq-server -detached >/dev/null 2>&1 || true
  for _ in $(seq 1 90); do rabbit_up && return 0; sleep 1; done
  echo "error: RabbitMQ did not start (see /var/log/rabbitmq/)" >&2
  return 1
}

node_up() { have node && have npm; }
ensure_node() {
  node_up && return 0
  echo "Node.js/npm are missing (the OIDC integration tests run a real provider on Node); installing..." >&2
  apt_install nodejs npm || return 1
}

chromium_up() { have chromium; }
ensure_chromium() {
  chromium_up && return 0
  echo "Chromium is missing (the HTML export is rendered headless in tests); installing..." >&2
  apt_install chromium || return 1
}

ensure_promtool() {
  have promtool && return 0
  echo "promtool is missing (the Prometheus alert rules are checked and unit-tested with it); installing..." >&2
  apt_install --no-install-recommends prometheus || return 1
}

sshd_up() { [ -x /usr/sbin/sshd ] && have ssh-keygen; }
ensure_sshd() {
  sshd_up && return 0
  echo "sshd is missing (repository scans over SSH are tested against a real sshd on loopback); installing..." >&2
  apt_install openssh-server openssh-client || return 1
}

status=0
for service in "$@"; do
  "ensure_$service" || status=1
done
exit $status
