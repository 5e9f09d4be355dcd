#!/usr/bin/env bash
# populate.sh DIR COMMAND [ARGS] - swap the database of the Samba DC that
# scripts/ad/start.sh DIR runs, for benchmarks that need big directories
# (connectors/ad/adtest Populate and Scratch call it). Must run as root.
#
#   has KEY          exit 0 when a loaded copy KEY is kept
#   load KEY [LDIF]  stop the DC, keep its database aside (DIR/dc.prev, unless
#                    a scratch already did), and start it holding KEY: a copy
#                    of the kept DIR/seed/..-KEY (warm), or - given LDIF - the
#                    DC's database as it is with LDIF loaded offline by
#                    ldbmodify through Samba's module stack (passwords hashed,
#                    SIDs allocated), kept for next time
#   scratch          the same with a plain copy of the DC's database
#   restore          stop the DC and start the database kept aside again
#
# Kept copies live in DIR/seed/TPL-KEY, TPL naming the template (start.sh's
# DIR/template): a re-provisioned domain does not reuse them. Remove
# DIR/seed to drop them all. Each start rewrites AD_PID in DIR/ad.env.
set -euo pipefail

DIR=${1:-}
CMD=${2:-}
if [ -z "$DIR" ] || [ -z "$CMD" ]; then echo "usage: $0 DIR has|load|scratch|restore [KEY [LDIF]]" >&2; exit 2; fi
case "$DIR" in /*) ;; *) DIR="$PWD/$DIR" ;; esac
DIR=${DIR%/}
HERE=$(cd "$(dirname "$0")" && pwd)
DC=$DIR/dc
PREV=$DIR/dc.prev
TPL=$DIR/template
IP=127.0.0.1
T0=${EPOCHREALTIME/[.,]/}
log() { local d=$(( ${EPOCHREALTIME/[.,]/} - T0 )); printf '[ad populate %d.%02ds] %s\n' $((d/1000000)) $((d%1000000/10000)) "$*" >&2; }
die() { log "error: $*"; exit 1; }

if [ ! -f "$DIR/.alm-ad" ] || [ ! -f "$TPL/.stamp" ]; then die "$DIR was not made by scripts/ad/start.sh"; fi
tpl=$(cat "$TPL/.stamp" "$TPL/admin-pass" | sha256sum | cut -c1-12)
seed() { printf '%s/seed/%s-%s' "$DIR" "$tpl" "$1"; }

stop() { "$HERE/stop.sh" "$DIR" 2>/dev/null || die "could not stop the DC in $DIR"; }

start() {
  rm -rf "$DC/run" && mkdir -p "$DC/run"
  samba -D -s "$DC/etc/smb.conf" || die "samba did not start (log: $DC/log/samba.log)"
  for _ in $(seq 1 100); do [ -s "$DC/run/samba.pid" ] && break; sleep 0.05; done
  local pid deadline
  pid=$(cat "$DC/run/samba.pid" 2>/dev/null) || die "samba wrote no pid file"
  deadline=$(( $(date +%s) + ${AD_TIMEOUT:-60} ))
  until LDAPTLS_CACERT="$DC/tls/ca.pem" LDAPTLS_REQCERT=demand ldapsearch -LLL -x -o nettimeout=2 \
    -H "ldaps://$IP" -D "$AD_BIND_DN" -y <(printf '%s' "$AD_BIND_PASSWORD") \
    -b "" -s base dn >/dev/null 2>&1; do
    kill -0 "$pid" 2>/dev/null || { tail -20 "$DC/log/samba.log" >&2; die "samba exited"; }
    [ "$(date +%s)" -lt "$deadline" ] || die "LDAPS not ready"
    sleep 0.1
  done
  sed -i "s/^AD_PID=.*/AD_PID='$pid'/" "$DIR/ad.env"
  log "samba started, pid $pid"
}

[ -f "$DIR/ad.env" ] || die "no $DIR/ad.env: start the DC with scripts/ad/start.sh $DIR first"
# shellcheck disable=SC1091 # the administrator, to see the DC answer
. "$DIR/ad.env"

# aside: stop the DC and keep its database as DIR/dc.prev (once: a second
# swap before a restore keeps the first)
aside() {
  stop
  if [ -d "$PREV" ]; then
    rm -rf "$DC"
  else
    mv "$DC" "$PREV"
  fi
}

case "$CMD" in
has)
  [ -f "$(seed "${3:?KEY}")/.done" ]
  ;;
scratch)
  aside
  cp -a "$PREV" "$DC"
  rm -f "$DC/log/"*
  start
  ;;
load)
  key=${3:?KEY}
  kept=$(seed "$key")
  if [ -f "$kept/.done" ]; then
    aside
    cp -a "$kept" "$DC"
    rm -f "$DC/.done"
    log "started from the copy kept in $kept"
    start
    exit 0
  fi
  ldif=${4:-}
  if [ -z "$ldif" ] || [ ! -f "$ldif" ]; then die "no copy kept for $key and no LDIF to load"; fi
  command -v ldbmodify >/dev/null || {
    log "installing ldb-tools"
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 -y -q install --no-install-recommends ldb-tools >/dev/null 2>&1 ||
      { apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get -y -q install --no-install-recommends ldb-tools >/dev/null 2>&1; } ||
      die "apt-get install ldb-tools failed"
  }
  # into the DC as it is now (after a scratch: the copy), the DC as it was
  # before kept aside
  stop
  [ -d "$PREV" ] || cp -a "$DC" "$PREV"
  log "loading $(grep -c '^dn: ' "$ldif") entries offline into $DC (passwords are hashed: ~16 ms each)"
  ldbmodify --nosync -H "$DC/private/sam.ldb" --configfile="$DC/etc/smb.conf" "$ldif" >"$DIR/populate.log" 2>&1 ||
    { tail -5 "$DIR/populate.log" >&2; die "ldbmodify failed (log: $DIR/populate.log)"; }
  log "loaded: $(tail -1 "$DIR/populate.log")"
  mkdir -p "$DIR/seed"
  rm -rf "$kept.tmp" && cp -a "$DC" "$kept.tmp"
  rm -rf "$kept.tmp/run" "$kept.tmp/log/"* && touch "$kept.tmp/.done" && mv "$kept.tmp" "$kept"
  log "kept a copy in $kept ($(du -sh "$kept" | cut -f1))"
  start
  ;;
restore)
  [ -d "$PREV" ] || die "nothing kept aside to restore"
  stop
  rm -rf "$DC"
  mv "$PREV" "$DC"
  start
  ;;
*)
  die "unknown command $CMD"
  ;;
esac
