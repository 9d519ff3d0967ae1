#!/usr/bin/env bash
# Set up (with the browser the dashboard test drives, the PostgreSQL and Redis servers the database
# and queue tests start and the openssl the https git server of the tests needs) and run the test suite offline.
# Extra arguments go to pytest, e.g.
# `bash scripts/test.sh -k dashboard -x`.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh --browser --postgres --openssl --redis

# Installed above, so a test that cannot start its PostgreSQL or Redis server fails instead of skipping.
export CODE_NARRATOR_REQUIRE_SERVERS=1

# The Hugging Face Hub cannot be reached; offline mode makes any accidental download fail fast
# instead of hanging on retries.
export HF_HUB_OFFLINE=1
export TRANSFORMERS_OFFLINE=1
echo "test: running pytest"
exec .venv/bin/python -m pytest -q tests "$@"
