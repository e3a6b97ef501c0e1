#!/usr/bin/env bash
# Set up, then run the demo: Ringwise on the embedded defaults (SQLite, simulated carrier, an
# accelerated clock) dials a 500-contact campaign across US time zones, live. Extra arguments
# go to `ringwise quickstart` (try --help: --speed, --contacts, --exit, --port).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/ringwise quickstart "$@"
