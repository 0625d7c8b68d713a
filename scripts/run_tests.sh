#!/usr/bin/env bash
# `make test`: the unit suite first, with every service address pointing at a closed port (so no unit
# test or fixture it pulls in can reach Redis, PostgreSQL or a broker), then every other suite against
# the real services. Each test runs once. With arguments, they are passed to one pytest run as they are.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
# Compiled modules are written (beside the sources, git-ignored) even where the environment sets
# PYTHONDONTWRITEBYTECODE: every scan starts a fresh interpreter (its zygote), as does every worker, API
# and CLI process a test starts, and each would compile the project's modules again (≈ 0.4 s of CPU for
# the scanner alone); pytest keeps its rewritten test modules the same way.
unset PYTHONDONTWRITEBYTECODE
PYTEST=("$PYTHON" -m pytest -p no:cacheprovider)

if [ $# -gt 0 ]; then
    exec "${PYTEST[@]}" "$@"
fi

CLOSED=1 # tcpmux: nothing listens there on a test machine
if (exec 3<>"/dev/tcp/127.0.0.1/$CLOSED") 2>/dev/null; then
    echo "port $CLOSED accepts connections: it cannot stand in for a stopped service" >&2
    exit 1
fi
REDIS_URL="redis://127.0.0.1:$CLOSED/0" \
BROKER_URL="redis://127.0.0.1:$CLOSED/0" \
DATABASE_URL="postgresql+psycopg://127.0.0.1:$CLOSED/x" \
TEST_REDIS_URL="redis://127.0.0.1:$CLOSED" \
TEST_BROKER_URL="redis://127.0.0.1:$CLOSED/0" \
TEST_PG_ADMIN_URL="postgresql://127.0.0.1:$CLOSED/x" \
    "${PYTEST[@]}" tests/unit
exec "${PYTEST[@]}" --ignore=tests/unit
