#!/usr/bin/env bash
# Shared settings and helpers for up.sh / down.sh. Every path lives under $STATE, so the stack
# never touches /etc/ceph or /var/lib/ceph and never stops a daemon it did not start.
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STATE="${KEYHOLE_LOCAL_DIR:-$repo/.local/rgw}"
CONF="$STATE/ceph.conf"
ENV_FILE="${KEYHOLE_ENV_FILE:-$repo/.local/keyhole.env}"
MON_PORT="${KEYHOLE_MON_PORT:-13300}"
MON_V1_PORT="${KEYHOLE_MON_V1_PORT:-13789}"
RGW_PORT="${KEYHOLE_RGW_PORT:-7480}"
RGW_SSL_PORT="${KEYHOLE_RGW_SSL_PORT:-7443}"
BLOCK_BYTES="${KEYHOLE_RGW_BLOCK_BYTES:-34359738368}"
export CEPH_CONF="$CONF" KEYHOLE_ENV_FILE="$ENV_FILE" RGW_PORT RGW_SSL_PORT

log() { printf '[keyhole local] %s\n' "$*" >&2; }

ceph_cmd() { timeout 30 ceph --connect-timeout 10 "$@"; }

# A daemon counts as ours only when its pid file names a live process whose command line
# mentions our conf's daemon name; a recycled pid of some other program does not count.
daemon_pid() {
  local f="$STATE/run/$1.pid"
  [ -s "$f" ] || return 1
  local pid
  pid="$(cat "$f")"
  [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "-c $CONF" || return 1
  echo "$pid"
}
daemon_alive() { daemon_pid "$1" >/dev/null; }

osd_up() { ceph_cmd osd dump 2>/dev/null | grep -Eq '^osd\.0 up'; }
rgw_answers() { curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$RGW_PORT/"; }

stack_running() {
  daemon_alive mon.a && daemon_alive osd.0 && daemon_alive client.rgw.keyhole && rgw_answers
}

# ceph-osd can take ~30 s to exit after SIGTERM, and a new one started before that fails
# with "Device or resource busy", so a start waits for any old process first.
our_pids() {
  local d
  for d in /proc/[0-9]*; do
    tr '\0' ' ' <"$d/cmdline" 2>/dev/null | grep -qF -- "$1 -c $CONF " && echo "${d#/proc/}"
  done
  return 0
}
wait_gone_osd() {
  local i
  for i in $(seq 1 120); do
    [ -z "$(our_pids ceph-osd)" ] && return 0
    sleep 0.5
  done
  log "an old ceph-osd for $CONF is still running after 60 s"
  exit 1
}

wait_for() {
  local what="$1" secs="$2"
  shift 2
  local i
  for i in $(seq 1 $((secs * 4))); do
    "$@" && return 0
    sleep 0.25
  done
  log "timed out after ${secs}s waiting for $what; logs are in $STATE/log"
  exit 1
}
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true

# Exit status of up.sh when another process holds one of the stack's ports.
PORTS_TAKEN_STATUS=3
PORT_VARS="KEYHOLE_RGW_PORT, KEYHOLE_RGW_SSL_PORT, KEYHOLE_MON_PORT and KEYHOLE_MON_V1_PORT"

# The pid listening on a TCP port (any address), if this user may see it.
port_pid() { ss -Hltnp "sport = :$1" 2>/dev/null | grep -o 'pid=[0-9]*' | head -n 1 | cut -d= -f2; }
port_taken() { [ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]; }

# Before anything is created or started: each of the stack's ports must be free or held by one of
# this stack's own daemons. Otherwise print one line naming the holder (for a Keyhole stack: the
# checkout it belongs to) and how to get out of the way, and exit, rather than build half a cluster.
check_ports() {
  local port pid cmd conf holder fix
  for port in "$MON_PORT" "$MON_V1_PORT" "$RGW_PORT" "$RGW_SSL_PORT"; do
    port_taken "$port" || continue
    pid="$(port_pid "$port")"
    cmd=""
    [ -n "$pid" ] && cmd="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)"
    case "$cmd" in *" -c $CONF "*) continue ;; esac
    fix="or choose other ports with $PORT_VARS"
    conf="$(printf '%s\n' "$cmd" | sed -n 's/^.* -c \([^ ]*\/ceph\.conf\) .*$/\1/p')"
    if [ -n "$conf" ] && [ "${conf%/.local/rgw/ceph.conf}" != "$conf" ]; then
      holder="${conf%/.local/rgw/ceph.conf}"
      log "port $port is held by the Keyhole local stack of the checkout in $holder (pid $pid); stop it with \`npm run local:down\` there, $fix"
    elif [ -n "$conf" ]; then
      log "port $port is held by another local stack, state in ${conf%/ceph.conf} (pid $pid); stop it with \`KEYHOLE_LOCAL_DIR=${conf%/ceph.conf} bash infra/local/down.sh\`, $fix"
    elif [ -n "$pid" ]; then
      log "port $port is held by $(cut -d' ' -f1 <<<"$cmd") (pid $pid); stop it, $fix"
    else
      log "port $port is held by a process this user cannot see; $fix"
    fi
    exit "$PORTS_TAKEN_STATUS"
  done
}
