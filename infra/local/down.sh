#!/usr/bin/env bash
# Stops only the daemons up.sh started (identified by pid file + our conf path), and waits for
# them to exit so that an immediate `local:up` does not race a dying ceph-osd. Data is kept.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=infra/local/lib.sh
source "$here/lib.sh"

stop_one() {
  local name="$1" pid
  pid="$(daemon_pid "$name")" || return 0
  log "stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || return 0
  local i
  for i in $(seq 1 180); do
    [ -d "/proc/$pid" ] || return 0
    sleep 0.5
  done
  log "$name did not exit in 90 s; sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
}

[ -f "$CONF" ] || { log "no local stack in $STATE"; exit 0; }
stop_one client.rgw.keyhole
stop_one osd.0
stop_one mon.a
if [ "${1:-}" = "--purge" ]; then
  log "removing $STATE and $ENV_FILE"
  rm -rf "$STATE" "$ENV_FILE"
fi
log "down"
