#!/usr/bin/env bash
# `npm start`: the local stack, then the broker with dev login, reading the stack's settings file,
# and serving the web app (client/web/dist) on the same origin. It prints the address to open.
# Logs are human-readable on a terminal and JSON otherwise (KEYHOLE_LOG_FORMAT, see the README).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
# shellcheck source=infra/local/lib.sh
source "$here/lib.sh"
# The broker's port first: when it is taken, say so (and who holds it) before anything starts. The
# broker says the same if the port is taken in between; a non-numeric PORT is its to report.
broker_port="${PORT:-8787}"
if [[ "$broker_port" =~ ^[0-9]+$ ]] && [ "$broker_port" -gt 0 ] && port_taken "$broker_port"; then
  holder_pid="$(port_pid "$broker_port")"
  by=""
  if [ -n "$holder_pid" ]; then
    by=" by $(tr '\0' '\n' 2>/dev/null <"/proc/$holder_pid/cmdline" | head -n 1 || true) (pid $holder_pid)"
  fi
  printf 'keyhole: cannot listen on %s:%s: port %s is already in use%s; stop it, or choose another port with PORT\n' \
    "${KEYHOLE_HOST:-127.0.0.1}" "$broker_port" "$broker_port" "$by" >&2
  exit 1
fi
# RGW's upload notifications go to this broker's port (infra/local/bootstrap.mjs).
KEYHOLE_NOTIFY_PORT="$broker_port" bash "$here/up.sh"
# Rebuild when a source (server/, client/, package.json, tsconfig*.json) is newer than the build, or
# a build output is missing; otherwise this takes a few milliseconds.
node "$here/stale-build.mjs" --rebuild
export KEYHOLE_ENV_FILE="${KEYHOLE_ENV_FILE:-$repo/.local/keyhole.env}"
export KEYHOLE_DEV_LOGIN=1
# The pinned AWS SDK's notice about its future Node 22 requirement is noise here (see the README).
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED="${AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED:-true}"
export KEYHOLE_WEB_DIR="${KEYHOLE_WEB_DIR:-$repo/client/web/dist}"
exec node "$repo/dist/server/main.js"
