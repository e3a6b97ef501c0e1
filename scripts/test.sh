#!/usr/bin/env bash
# Set up (with the dev tools), then run the whole test suite on two cores. PostgreSQL tests
# use postgresql://postgres@127.0.0.1:5432 (override: RINGWISE_TEST_POSTGRES) and are skipped
# when it is unreachable, unless RINGWISE_REQUIRE_POSTGRES=1.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh dev
exec .venv/bin/python -m pytest -n 2 "$@"
