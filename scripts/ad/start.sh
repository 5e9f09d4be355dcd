#!/usr/bin/env bash
# start.sh DIR - install (if missing), provision and start a throw-away Samba
# Active Directory DC on 127.0.0.1 for alm's integration tests, and write
# DIR/ad.env (sh-sourceable KEY='value') for connectors/ad/adtest.
# Stop it with scripts/ad/stop.sh DIR. Must run as root (apt-get, samba).
#
# Layout (everything under DIR; nothing in /etc/samba, /var/lib/samba, /run/samba):
#   DIR/template/  a provisioned domain that is never started, kept between runs
#                  (provisioning takes 5-9 s, copying it ~0.1 s), with its
#                  test-only admin password in template/admin-pass (0600)
#   DIR/dc/        this run's copy, the one that runs (wiped at every start)
#   DIR/ad.env     connection settings and the admin password (mode 0600)
#
# Samba hard-codes its ports (389/636/3268/3269): one instance per machine.
# Knobs: AD_TIMEOUT [60] seconds to wait for LDAPS; AD_FRESH=1 re-provisions
# the template.
set -euo pipefail

DIR=${1:-}
[ -n "$DIR" ] || { echo "usage: $0 DIR" >&2; exit 2; }
case "$DIR" in /*) ;; *) DIR="$PWD/$DIR" ;; esac
DIR=${DIR%/}
HERE=$(cd "$(dirname "$0")" && pwd)

REALM=EXAMPLE.TEST
DOMAIN=EXAMPLE
HOST=dc1
IP=127.0.0.1
DNSDOMAIN=${REALM,,}
BASEDN=DC=example,DC=test
TIMEOUT=${AD_TIMEOUT:-60}
# Bump when the template's provisioning changes, so old templates are rebuilt.
FORMAT=1

TPL=$DIR/template
DC=$DIR/dc
T0=${EPOCHREALTIME/[.,]/}
log() { local d=$(( ${EPOCHREALTIME/[.,]/} - T0 )); printf '[ad start %d.%02ds] %s\n' $((d/1000000)) $((d%1000000/10000)) "$*" >&2; }
die() { log "error: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root: it installs Samba with apt-get and starts it"

# --------------------------------------------------------------- install
need=()
command -v samba >/dev/null 2>&1 && command -v samba-tool >/dev/null 2>&1 || need+=(samba-ad-dc)
[ -d /usr/share/samba/setup ] || need+=(samba-ad-provision) # provisioning data (Debian 12)
command -v ldapsearch >/dev/null 2>&1 || need+=(ldap-utils)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Keep the packages' init scripts from starting smbd/nmbd/samba-ad-dc on
  # every interface; removed again below unless it was there before.
  made_policy=no
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    made_policy=yes
  fi
  trap '[ "$made_policy" = yes ] && rm -f /usr/sbin/policy-rc.d' EXIT
  apt=(apt-get -o DPkg::Lock::Timeout=300 -y -q)
  aptlog=$(mktemp)
  missing=no
  for p in "${need[@]}"; do
    apt-cache show "$p" >/dev/null 2>&1 || missing=yes
  done
  [ "$missing" = no ] || "${apt[@]}" update >"$aptlog" 2>&1 || true
  if ! "${apt[@]}" install --no-install-recommends "${need[@]}" >>"$aptlog" 2>&1; then
    # stale package lists (404s): refresh once and retry
    "${apt[@]}" update >>"$aptlog" 2>&1 || true
    "${apt[@]}" install --no-install-recommends "${need[@]}" >>"$aptlog" 2>&1 \
      || { tail -20 "$aptlog" >&2; die "apt-get install ${need[*]} failed (log: $aptlog)"; }
  fi
  rm -f "$aptlog"
  [ "$made_policy" = yes ] && rm -f /usr/sbin/policy-rc.d
  trap - EXIT
  log "installed"
fi

# ------------------------------------------ stop a previous run, check ports
if [ -e "$DIR" ] && [ -n "$(ls -A "$DIR" 2>/dev/null)" ] && [ ! -f "$DIR/.alm-ad" ]; then
  die "$DIR is not empty and was not made by this script; pick another directory"
fi
mkdir -p "$DIR"
touch "$DIR/.alm-ad"
if [ -f "$DC/run/samba.pid" ]; then
  log "an instance from $DIR may still run: stopping it"
  "$HERE/stop.sh" "$DIR" || die "could not stop the previous instance in $DIR"
fi
busy=()
for p in 389 636 3268 3269; do
  (exec 3<>"/dev/tcp/$IP/$p") 2>/dev/null && busy+=("$p")
done
if [ ${#busy[@]} -gt 0 ]; then
  who=$(ss -Hltnp "( sport = :${busy[0]} )" 2>/dev/null | grep -o 'pid=[0-9]*' | sort -u | tr '\n' ' ' || true)
  die "$IP port(s) ${busy[*]} already in use ${who:+by ${who}}- another Samba instance? Samba's ports are fixed: stop it (scripts/ad/stop.sh ITS_DIR) or reuse its ad.env"
fi

# ------------------------------------------------------ template (provision)
stamp="format=$FORMAT realm=$REALM domain=$DOMAIN host=$HOST samba=$(samba -V 2>/dev/null)"
if [ "${AD_FRESH:-}" = 1 ] || [ ! -f "$TPL/.stamp" ] || [ "$(cat "$TPL/.stamp")" != "$stamp" ]; then
  rm -rf "$TPL"
  mkdir -p "$TPL/run" "$TPL/log" "$TPL/tls"
  # Test-only admin password, fresh per template; it is written only to
  # DIR/ad.env and the template's admin-pass file (both mode 0600).
  pass="Alm-$(openssl rand -hex 10)-T1!"
  log "provisioning $REALM into $TPL (5-9 s; later starts copy it)"
  samba-tool domain provision --targetdir="$TPL" \
    --realm="$REALM" --domain="$DOMAIN" --host-name="$HOST" --host-ip="$IP" \
    --adminpass="$pass" --server-role=dc --dns-backend=NONE --backend-store=mdb \
    --option="interfaces = $IP" --option="bind interfaces only = yes" \
    --option="server services = ldap" --option="ldb:nosync = true" \
    --option="pid directory = $TPL/run" --option="ncalrpc dir = $TPL/run/ncalrpc" \
    --option="winbindd socket directory = $TPL/run/winbindd" \
    --option="ntp signd socket directory = $TPL/run/ntp_signd" \
    --option="log file = $TPL/log/samba.log" \
    >"$TPL/provision.log" 2>&1 || { tail -20 "$TPL/provision.log" >&2; die "provision failed (log: $TPL/provision.log)"; }

  # Samba's own certificate has a negative serial half the time, which Go
  # refuses: use an EC CA and a server certificate with SANs instead.
  tls=$TPL/tls
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
    -subj "/CN=alm test CA $DNSDOMAIN" -keyout "$tls/ca-key.pem" -out "$tls/ca.pem" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -subj "/CN=$HOST.$DNSDOMAIN" -keyout "$tls/key.pem" -out "$tls/server.csr" 2>/dev/null
  printf 'subjectAltName=DNS:%s,DNS:localhost,IP:%s\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n' \
    "$HOST.$DNSDOMAIN" "$IP" >"$tls/ext.cnf"
  openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca-key.pem" \
    -CAcreateserial -days 3650 -extfile "$tls/ext.cnf" -out "$tls/cert.pem" 2>/dev/null
  chmod 600 "$tls/key.pem" "$tls/ca-key.pem" # Samba refuses keys readable by others

  # Options provision does not keep. Strong auth is AD's default: simple
  # binds only over TLS, so the tests go over LDAPS as production must.
  for line in "ldap server require strong auth = yes" \
    "tls keyfile = $tls/key.pem" "tls certfile = $tls/cert.pem" "tls cafile = $tls/ca.pem"; do
    sed -i "/^\[global\]/a\\	$line" "$TPL/etc/smb.conf"
  done
  (umask 077 && printf '%s\n' "$pass" >"$TPL/admin-pass")
  printf '%s\n' "$stamp" >"$TPL/.stamp" # last: a template without it is rebuilt
  log "provisioned"
fi

# ------------------------------------------------------------ copy and start
rm -rf "$DC" "$DIR/ad.env"
cp -a "$TPL" "$DC"
rm -rf "$DC/run" && mkdir -p "$DC/run"
rm -f "$DC/log/"*
# smb.conf names the template's paths ("lock directory = $TPL" has no slash)
esc=$(printf '%s' "$TPL" | sed 's/[][\.*^$#]/\\&/g')
sed -i "s#$esc\(/\|\$\)#$DC\1#g" "$DC/etc/smb.conf"
! grep -qF "$TPL" "$DC/etc/smb.conf" || die "smb.conf in $DC still names the template $TPL"
rm -f "$DC/admin-pass" "$DC/.stamp"
pass=$(cat "$TPL/admin-pass")

samba -D -s "$DC/etc/smb.conf" || die "samba did not start (log: $DC/log/samba.log)"
for _ in $(seq 1 100); do [ -s "$DC/run/samba.pid" ] && break; sleep 0.05; done
PID=$(cat "$DC/run/samba.pid" 2>/dev/null) || die "samba wrote no pid file (log: $DC/log/samba.log)"
log "samba started, pid $PID"

# ready when an admin simple bind over LDAPS, verified against our CA, works
deadline=$(( $(date +%s) + TIMEOUT ))
until LDAPTLS_CACERT="$DC/tls/ca.pem" LDAPTLS_REQCERT=demand ldapsearch -LLL -x -o nettimeout=2 \
  -H "ldaps://$IP" -D "Administrator@$DNSDOMAIN" -y <(printf '%s' "$pass") \
  -b "$BASEDN" -s base dn >/dev/null 2>&1; do
  kill -0 "$PID" 2>/dev/null || { tail -20 "$DC/log/samba.log" >&2; die "samba exited (log: $DC/log/samba.log)"; }
  [ "$(date +%s)" -lt "$deadline" ] || { tail -20 "$DC/log/samba.log" >&2; die "LDAPS not ready after ${TIMEOUT}s"; }
  sleep 0.1
done

q() { printf "%s='%s'\n" "$1" "${2//\'/\'\\\'\'}"; } # KEY='value', sh-sourceable
(
  umask 077
  {
    q AD_DIR "$DIR"
    q AD_PID "$PID"
    q AD_LDAPS_URL "ldaps://$IP:636"
    q AD_BASE_DN "$BASEDN"
    q AD_BIND_DN "CN=Administrator,CN=Users,$BASEDN"
    q AD_BIND_PASSWORD "$pass"
    q AD_CA_CERT "$DC/tls/ca.pem"
    q AD_TLS_SERVER_NAME "$HOST.$DNSDOMAIN"
    q AD_REALM "$REALM"
    q AD_DOMAIN "$DNSDOMAIN"
  } >"$DIR/ad.env"
)
log "ready: LDAPS on $IP:636, settings in $DIR/ad.env"
