#!/usr/bin/env bash
# Starts (or confirms) the local Ceph RGW stack: one mon, one osd, one radosgw, all on loopback,
# with STS enabled, then bootstraps the broker user, the uploader role and the bucket.
# Idempotent: a second run while the stack is up changes nothing and exits 0. When another process
# (another checkout's stack, say) holds one of its ports, it prints one line naming it and exits 3.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=infra/local/lib.sh
source "$here/lib.sh"

install_packages() {
  local missing=()
  for bin in ceph-mon ceph-osd radosgw radosgw-admin ceph openssl curl; do
    command -v "$bin" >/dev/null 2>&1 || missing+=("$bin")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing Debian packages (missing: ${missing[*]})"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    ceph-mon ceph-osd radosgw ceph-common openssl curl >/dev/null
}

write_conf() {
  # The conf is regenerated on every start so port or path changes take effect; the fsid is kept.
  cat >"$CONF" <<EOF
[global]
fsid = $(cat "$STATE/fsid")
mon host = [v2:127.0.0.1:$MON_PORT,v1:127.0.0.1:$MON_V1_PORT]
ms mon client mode = crc
ms client mode = crc
public network = 127.0.0.0/8
auth cluster required = none
auth service required = none
auth client required = none
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
mon allow pool delete = true
osd crush chooseleaf type = 0
osd pool default pg num = 8
osd pool default pgp num = 8
mon warn on pool no redundancy = false
run dir = $STATE/run
pid file = $STATE/run/\$name.pid
admin socket = $STATE/run/\$name.asok
log file = $STATE/log/\$name.log
log to stderr = false
err to stderr = false
mon cluster log file = $STATE/log/cluster.log
keyring = /dev/null

[mon.a]
mon data = $STATE/mon
public addrv = [v2:127.0.0.1:$MON_PORT,v1:127.0.0.1:$MON_V1_PORT]

[osd.0]
osd data = $STATE/osd
osd objectstore = bluestore
bluestore block path = $STATE/osd/block.file
bluestore block create = true
bluestore block size = $BLOCK_BYTES
osd memory target = 1073741824

[client.rgw.keyhole]
ms mon client mode = crc
ms client mode = crc
rgw frontends = beast endpoint=127.0.0.1:$RGW_PORT ssl_endpoint=127.0.0.1:$RGW_SSL_PORT ssl_certificate=$STATE/tls/rgw.crt ssl_private_key=$STATE/tls/rgw.key tcp_nodelay=1
rgw dns name = localhost
rgw sts key = $(cat "$STATE/sts.key")
rgw s3 auth use sts = true
rgw enable apis = s3, s3website, admin, sts, iam, notifications
rgw thread pool size = 256
rgw gc obj min wait = 60
EOF
}

make_tls() {
  # A local CA and a leaf for localhost, *.localhost, <bucket>.localhost and 127.0.0.1, so HTTPS and
  # virtual-hosted addressing (<bucket>.localhost) work for Amplify and browsers. The bucket gets its
  # own name because TLS clients (Node, Chromium) refuse a "*.localhost" wildcard: it sits right
  # under a top-level name. The CA and the leaf's key are kept, so trust settings and SPKI pins stay
  # valid when the leaf is reissued; radosgw loads a reissued leaf at its next start.
  local bucket="${KEYHOLE_LOCAL_BUCKET:-keyhole-local}"
  local want="DNS:localhost,DNS:*.localhost,DNS:$bucket.localhost,IP:127.0.0.1"
  mkdir -p "$STATE/tls"
  (
    cd "$STATE/tls"
    if [ ! -s ca.crt ] || [ ! -s ca.key ]; then
      openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=Keyhole local CA" \
        -keyout ca.key -out ca.crt >/dev/null 2>&1
      rm -f rgw.crt
    fi
    if [ -s rgw.crt ] && openssl x509 -in rgw.crt -noout -ext subjectAltName 2>/dev/null | grep -qF "DNS:$bucket.localhost"; then
      exit 0
    fi
    [ -s rgw.key ] || openssl genrsa -out rgw.key 2048 >/dev/null 2>&1
    openssl req -new -key rgw.key -subj "/CN=localhost" -out rgw.csr >/dev/null 2>&1
    printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' "$want" >ext.cnf
    openssl x509 -req -in rgw.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 825 \
      -extfile ext.cnf -out rgw.crt.tmp >/dev/null 2>&1
    mv rgw.crt.tmp rgw.crt
    rm -f rgw.csr ext.cnf
    touch .reissued
  )
  if [ -e "$STATE/tls/.reissued" ] && daemon_alive client.rgw.keyhole; then
    log "reissued the RGW TLS certificate (adds DNS:$bucket.localhost); radosgw serves it after its next restart"
  fi
  rm -f "$STATE/tls/.reissued"
}

first_time() {
  log "creating a new single-node cluster in $STATE"
  mkdir -p "$STATE"/{mon,osd,run,log}
  cat /proc/sys/kernel/random/uuid >"$STATE/fsid"
  # RGW requires the STS key to be exactly 16 characters.
  head -c 4096 /dev/urandom | tr -dc 'a-zA-Z0-9' | head -c 16 >"$STATE/sts.key"
  make_tls
  write_conf
  ceph-mon -c "$CONF" --id a --mkfs --keyring /dev/null >/dev/null
  touch "$STATE/mon/keyring"
  ceph-mon -c "$CONF" --id a 9>&-
  ceph_cmd osd create >/dev/null
  ceph_cmd osd crush add osd.0 1 root=default host=localhost >/dev/null
  ceph-osd -c "$CONF" --id 0 --mkfs >/dev/null 2>&1
  touch "$STATE/.initialized"
}

start_daemons() {
  mkdir -p "$STATE"/{run,log}
  make_tls
  write_conf
  if ! daemon_alive mon.a; then ceph-mon -c "$CONF" --id a 9>&-; fi
  if ! daemon_alive osd.0; then
    wait_gone_osd
    ceph-osd -c "$CONF" --id 0 9>&-
  fi
  wait_for "osd.0 up" 60 osd_up
  if ! daemon_alive client.rgw.keyhole; then radosgw -c "$CONF" -n client.rgw.keyhole 9>&-; fi
  wait_for "radosgw on 127.0.0.1:$RGW_PORT" 90 rgw_answers
}

ensure_broker_user() {
  if [ ! -s "$STATE/broker.keys" ]; then
    local ak sk
    ak="KH$(head -c 4096 /dev/urandom | tr -dc 'A-Z0-9' | head -c 18)"
    sk="$(head -c 4096 /dev/urandom | tr -dc 'a-zA-Z0-9' | head -c 40)"
    printf '%s %s\n' "$ak" "$sk" >"$STATE/broker.keys.tmp"
    mv "$STATE/broker.keys.tmp" "$STATE/broker.keys"
  fi
  read -r BROKER_AK BROKER_SK <"$STATE/broker.keys"
  if ! radosgw-admin -n client.rgw.keyhole user info --uid=keyhole-broker >/dev/null 2>&1; then
    radosgw-admin -n client.rgw.keyhole user create --uid=keyhole-broker --display-name="Keyhole broker" \
      --access-key="$BROKER_AK" --secret="$BROKER_SK" >/dev/null
  fi
  # Capabilities are re-applied every time; `caps add` is idempotent.
  radosgw-admin -n client.rgw.keyhole caps add --uid=keyhole-broker --caps="roles=*;user-policy=*" >/dev/null
}

main() {
  install_packages
  mkdir -p "$STATE"
  exec 9>"$STATE/.lock"
  flock 9
  # A running stack of this state dir is reused as is; otherwise its ports must be free first.
  stack_running || check_ports
  if [ ! -e "$STATE/.initialized" ]; then
    first_time
  fi
  local started=0
  if ! stack_running; then
    started=1
    log "starting mon, osd and radosgw"
    start_daemons
  fi
  make_tls
  ensure_broker_user
  export KEYHOLE_LOCAL_STATE="$STATE" BROKER_AK BROKER_SK
  node "$here/bootstrap.mjs"
  if [ "$started" = 1 ]; then
    log "up in ${SECONDS}s: S3/STS/IAM at http://127.0.0.1:$RGW_PORT and https://localhost:$RGW_SSL_PORT"
  else
    log "already up (${SECONDS}s): http://127.0.0.1:$RGW_PORT"
  fi
  log "connection settings: $ENV_FILE"
}

main "$@"
