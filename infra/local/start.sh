#!/usr/bin/env bash
# `npm start`: the local stack, then the broker with dev login, reading the stack's settings file,
# and serving the web app (client/web/dist) on the same origin. It prints the address to open.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
bash "$here/up.sh"
if [ ! -f "$repo/dist/server/main.js" ] || [ ! -f "$repo/dist/client/cli/main.js" ] || [ ! -f "$repo/client/web/dist/index.html" ]; then
  (cd "$repo" && npm run --silent build)
fi
export KEYHOLE_ENV_FILE="${KEYHOLE_ENV_FILE:-$repo/.local/keyhole.env}"
export KEYHOLE_DEV_LOGIN=1
# The pinned AWS SDK's notice about its future Node 22 requirement is noise here (see the README).
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED="${AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED:-true}"
export KEYHOLE_WEB_DIR="${KEYHOLE_WEB_DIR:-$repo/client/web/dist}"
exec node "$repo/dist/server/main.js"
