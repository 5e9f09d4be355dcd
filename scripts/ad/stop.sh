#!/usr/bin/env bash
# stop.sh DIR [--purge] - stop the Samba DC that scripts/ad/start.sh DIR
# started, by the PID it recorded: SIGTERM, wait, then SIGKILL. --purge also
# deletes DIR (the cached template included). Exits 0 when nothing runs.
set -uo pipefail

DIR=${1:-}
[ -n "$DIR" ] || { echo "usage: $0 DIR [--purge]" >&2; exit 2; }
case "$DIR" in /*) ;; *) DIR="$PWD/$DIR" ;; esac
DIR=${DIR%/}
PIDFILE=$DIR/dc/run/samba.pid
log() { echo "[ad stop] $*" >&2; }
# in_group PGID: is any process left in that process group? Reads /proc,
# as minimal images have no pgrep.
in_group() {
  local f st pgrp
  for f in /proc/[0-9]*/stat; do
    st=$(cat "$f" 2>/dev/null) || continue
    st=${st##*) } # drop "pid (comm) ": state ppid pgrp ...
    read -r _ _ pgrp _ <<<"$st"
    [ "$pgrp" = "$1" ] && return 0
  done
  return 1
}
rc=0

if [ -f "$PIDFILE" ]; then
  P=$(cat "$PIDFILE")
  # Only a samba holding this instance's files open: the pid may have been
  # reused (samba rewrites its command line, so that cannot tell).
  if [ -n "$P" ] && kill -0 "$P" 2>/dev/null &&
    [ "$(basename "$(readlink "/proc/$P/exe" 2>/dev/null)")" = samba ] &&
    ls -l "/proc/$P/fd" 2>/dev/null | grep -qF -- "$DIR/dc/"; then
    kill -TERM "$P"
    for _ in $(seq 1 150); do kill -0 "$P" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$P" 2>/dev/null; then
      log "samba $P ignored SIGTERM for 15 s: SIGKILL"
      kill -KILL -- "-$P" 2>/dev/null || kill -KILL "$P" 2>/dev/null
      rc=1
    fi
    # samba -D leads its own process group; its workers should exit with it
    for _ in $(seq 1 50); do in_group "$P" || break; sleep 0.1; done
    if in_group "$P"; then
      log "samba workers of $P still there: SIGKILL to process group $P"
      kill -KILL -- "-$P" 2>/dev/null
      rc=1
    fi
    log "stopped samba (pid $P)"
  else
    log "samba (pid $P) from $DIR was not running"
  fi
  rm -f "$PIDFILE"
else
  log "nothing to stop: no $PIDFILE"
fi

if [ "${2:-}" = --purge ]; then
  if [ -f "$DIR/.alm-ad" ]; then
    rm -rf "$DIR"
    log "removed $DIR"
  else
    log "not removing $DIR: start.sh did not make it"
    rc=1
  fi
fi
exit $rc
