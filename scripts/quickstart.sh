#!/usr/bin/env bash
# Set up, then start Ringwise on the embedded defaults (SQLite, simulated carrier) and walk
# through a first campaign. Extra arguments go to `ringwise quickstart` (try --help).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/ringwise quickstart "$@"
