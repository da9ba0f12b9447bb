#!/usr/bin/env bash
# Set up a fresh machine, generate the sample export, import it through Dagster
# (embedded PostgreSQL) and serve the Dagster UI on http://127.0.0.1:3000.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/telegram-intel demo "$@"
