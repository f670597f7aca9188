#!/usr/bin/env bash
# `npm start`: the local stack, then the broker with dev login, reading the stack's settings file,
# and serving the web app (client/web/dist) on the same origin. It prints the address to open.
# Logs are human-readable on a terminal and JSON otherwise (KEYHOLE_LOG_FORMAT, see the README).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
bash "$here/up.sh"
# Rebuild when a source (server/, client/, package.json, tsconfig*.json) is newer than the build, or
# a build output is missing; otherwise this takes a few milliseconds.
node "$here/stale-build.mjs" --rebuild
export KEYHOLE_ENV_FILE="${KEYHOLE_ENV_FILE:-$repo/.local/keyhole.env}"
export KEYHOLE_DEV_LOGIN=1
# The pinned AWS SDK's notice about its future Node 22 requirement is noise here (see the README).
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED="${AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED:-true}"
export KEYHOLE_WEB_DIR="${KEYHOLE_WEB_DIR:-$repo/client/web/dist}"
exec node "$repo/dist/server/main.js"
