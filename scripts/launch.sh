#!/usr/bin/env bash
# Set up (when needed) and open the Code Narrator dashboard at http://localhost:8501.
# Extra arguments go to `streamlit run`, e.g. `bash scripts/launch.sh --server.port 8600`.
# It listens on this computer only: the dashboard can read any folder its user can, so sharing it
# on a network (`--server.address 0.0.0.0`) is a deliberate choice, not a default.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh

echo "launch: starting the dashboard (http://localhost:8501 unless a --server.port was given; Ctrl+C stops it)"
exec .venv/bin/streamlit run dashboard/app.py \
    --server.port 8501 \
    --server.address localhost \
    --server.headless false \
    --client.toolbarMode viewer \
    --browser.gatherUsageStats false \
    "$@"
