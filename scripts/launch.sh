#!/usr/bin/env bash
# Set up (when needed) and start the Code Narrator dashboard, by default at http://localhost:8501.
# Extra arguments go to `streamlit run`, e.g. `bash scripts/launch.sh --server.port 8600`; the
# defaults are in .streamlit/config.toml. It listens on this computer only: the dashboard can read
# any folder its user can, so sharing it on a network (`--server.address 0.0.0.0`) is a deliberate
# choice, not a default.
#
# It never asks anything (Streamlit runs headless, so no first-run e-mail prompt, with or without a
# terminal). Once the dashboard answers, its address is printed and, where there is a display, a
# browser opened. After the setup, everything it prints (the admin password made up on the very
# first start included) is also appended to <data folder>/logs/launch.log, readable by you only.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh

say() { echo "launch: $*"; }

# The data folder (as narrator.settings finds it) and the default port and address (config.toml).
defaults="$(.venv/bin/python -c '
import tomllib
from narrator.settings import home_dir
with open(".streamlit/config.toml", "rb") as config:
    server = tomllib.load(config)["server"]
print(home_dir(), server["port"], server["address"], sep="\n")')"
{ IFS= read -r home; IFS= read -r port; IFS= read -r address; } <<< "$defaults"
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
    case "${args[i]}" in
        --server.port=*) port="${args[i]#*=}" ;;
        --server.port) port="${args[i + 1]:-$port}" ;;
        --server.address=*) address="${args[i]#*=}" ;;
        --server.address) address="${args[i + 1]:-$address}" ;;
    esac
done
case "$address" in
    "" | 0.0.0.0 | :: | "[::]") host=localhost ;;
    *:*) host="[$address]" ;;
    *) host="$address" ;;
esac
url="http://$host:$port"

# The log holds the first-run admin password: the folders and the file are for their owner only.
log="$home/logs/launch.log"
(umask 077 && mkdir -p "$home/logs" && touch "$log")
chmod go-rwx "$home" "$home/logs" "$log" || say "warning: could not make $home private to you" >&2
# Console and log both. The tees ignore Ctrl+C and SIGTERM sent to the whole group: they end when
# the dashboard does, which would otherwise hang on its goodbye line written to a closed pipe.
exec > >(trap '' INT TERM && exec tee -a "$log") 2> >(trap '' INT TERM && exec tee -a "$log" >&2)
say "$(date '+%Y-%m-%d %H:%M:%S') starting the dashboard at $url (Ctrl+C stops it); this console is also kept in $log"

# Before the server starts, so a made-up password shows next to the address (and in the log).
.venv/bin/python -c '
import os, sys
from dashboard import auth
auth.announce_password(sys.argv[1], os.environ.get(auth.ENV) or None)' "$home"

# In the background: wait until the dashboard answers (or its process, this one after `exec`,
# ends), then print the address and open a browser where one can be shown.
server_pid=$$
announce() {
    if .venv/bin/python - "$url/_stcore/health" "$server_pid" <<'PY'
import os, sys, time, urllib.request
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy
deadline = time.monotonic() + 300
while time.monotonic() < deadline:
    try:
        os.kill(int(sys.argv[2]), 0)
    except OSError:
        sys.exit(1)
    try:
        with opener.open(sys.argv[1], timeout=2) as response:
            if response.read().strip() == b"ok":
                sys.exit(0)
    except OSError:
        pass
    time.sleep(0.5)
sys.exit(1)
PY
    then
        say "the dashboard is at $url"
        if [[ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" || "$(uname -s)" == Darwin ]]; then
            .venv/bin/python -m webbrowser -t "$url" >/dev/null 2>&1 || true
        fi
    fi
}
announce &

export PYTHONUNBUFFERED=1  # the dashboard's lines reach the console and the log as they are printed
exec .venv/bin/streamlit run dashboard/app.py "$@"
