#!/usr/bin/env bash
# `npm start`: the local stack, then the broker with dev login, reading the stack's settings file.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
bash "$here/up.sh"
[ -f "$repo/dist/server/main.js" ] || (cd "$repo" && npm run --silent build)
export KEYHOLE_ENV_FILE="${KEYHOLE_ENV_FILE:-$repo/.local/keyhole.env}"
export KEYHOLE_DEV_LOGIN=1
exec node "$repo/dist/server/main.js"
