#!/usr/bin/env bash
# A Docker engine of the tests' own (Debian's docker.io dockerd), apart from any system one: its
# socket, data, exec state and pidfile all live under one directory. It makes no bridge and touches
# no iptables, so containers can only run with host networking and nothing leaves loopback (DESIGN
# "Running on one machine"). vfs storage works on any filesystem, overlay or not.
#
#   start   start the engine (already answering: nothing to do); wait until /_ping answers
#   stop    stop it: SIGTERM, then SIGKILL after 20 s
#   image   import raftplane/busybox:test (Debian's busybox-static and its applets) when missing
#
# RAFTPLANE_DOCKER_DIR sets the directory (default /tmp/raftplane-docker); the socket is
# $RAFTPLANE_DOCKER_DIR/docker.sock. Needs root.
set -euo pipefail

dir=${RAFTPLANE_DOCKER_DIR:-/tmp/raftplane-docker}
socket=$dir/docker.sock
pidfile=$dir/docker.pid
log=$dir/dockerd.log
image_repo=raftplane/busybox
image_tag=test
# How long dockerd gets to answer its first /_ping, and to exit after SIGTERM.
start_timeout_s=60
stop_timeout_s=20

ping() {
  [ -S "$socket" ] && [ "$(curl --silent --max-time 2 --unix-socket "$socket" http://localhost/_ping 2>/dev/null)" = OK ]
}

engine_pid() {
  local pid
  [ -f "$pidfile" ] || return 1
  pid=$(cat "$pidfile")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

start() {
  if ping; then
    echo "docker engine already answering on $socket"
    return 0
  fi
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: starting dockerd needs root" >&2
    exit 1
  fi
  if ! command -v dockerd >/dev/null 2>&1; then
    echo "error: dockerd is not on PATH (apt-get install docker.io)" >&2
    exit 1
  fi
  if ! engine_pid >/dev/null; then
    mkdir -p "$dir"
    rm -f "$pidfile" "$socket"
    # setsid: the engine outlives this script and its terminal. Logs are bounded per container
    # (json-file, 10 MB x 2) so a chatty test container cannot fill the disk.
    setsid dockerd \
      --host "unix://$socket" \
      --data-root "$dir/root" \
      --exec-root "$dir/exec" \
      --pidfile "$pidfile" \
      --bridge=none \
      --iptables=false \
      --ip6tables=false \
      --ip-forward=false \
      --ip-masq=false \
      --storage-driver=vfs \
      --log-driver=json-file \
      --log-opt max-size=10m \
      --log-opt max-file=2 \
      </dev/null >>"$log" 2>&1 &
  fi
  local waited_s=0
  until ping; do
    if [ "$waited_s" -ge "$start_timeout_s" ]; then
      echo "error: dockerd did not answer on $socket within ${start_timeout_s} s; the end of $log:" >&2
      tail -n 30 "$log" >&2 || true
      exit 1
    fi
    sleep 1
    waited_s=$((waited_s + 1))
  done
  echo "docker engine answering on $socket (pid $(cat "$pidfile"))"
}

stop() {
  local pid waited_s=0
  if ! pid=$(engine_pid); then
    echo "docker engine not running"
    rm -f "$pidfile"
    return 0
  fi
  kill -TERM "$pid"
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$waited_s" -ge "$stop_timeout_s" ]; then
      echo "dockerd (pid $pid) still running after ${stop_timeout_s} s; sending SIGKILL" >&2
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 1
    waited_s=$((waited_s + 1))
  done
  echo "docker engine stopped"
}

# The image is imported through the Engine API (POST /images/create?fromSrc=-) rather than the
# docker CLI: the API is what the runtime speaks, and any docker CLI on PATH may be another version.
image() {
  if ! ping; then
    echo "error: no docker engine answers on $socket (bash scripts/docker-engine.sh start)" >&2
    exit 1
  fi
  local status
  status=$(curl --silent --output /dev/null --write-out '%{http_code}' --unix-socket "$socket" \
    "http://localhost/v1.41/images/$image_repo:$image_tag/json")
  if [ "$status" = 200 ]; then
    echo "image $image_repo:$image_tag present"
    return 0
  fi
  local busybox
  busybox=$(dpkg -L busybox-static 2>/dev/null | grep -m1 '/bin/busybox$' || true)
  if [ -z "$busybox" ] || [ ! -x "$busybox" ]; then
    echo "error: busybox-static is not installed (apt-get install busybox-static)" >&2
    exit 1
  fi
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  local root=$work/root
  mkdir -p "$root/bin" "$root/etc" "$root/tmp" "$root/www" "$root/root"
  chmod 1777 "$root/tmp"
  cp "$busybox" "$root/bin/busybox"
  # Every applet the binary has (sh, httpd, sleep, nc, wget, ...), as a symlink in /bin.
  local applet
  for applet in $("$busybox" --list); do
    [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
  printf 'raftplane busybox\n' >"$root/www/index.html"
  local answer
  answer=$(tar --create --directory "$root" --owner=0 --group=0 --numeric-owner . |
    curl --silent --show-error --fail --unix-socket "$socket" \
      --header 'Content-Type: application/x-tar' --data-binary @- \
      "http://localhost/v1.41/images/create?fromSrc=-&repo=$image_repo&tag=$image_tag&changes=ENV%20PATH%3D%2Fbin&changes=CMD%20%5B%22%2Fbin%2Fsh%22%5D")
  # The engine answers 200 and reports a failed import as an {"error": ...} line in the stream.
  case "$answer" in
    *'"error"'*)
      echo "error: importing $image_repo:$image_tag failed: $answer" >&2
      exit 1
      ;;
  esac
  status=$(curl --silent --output /dev/null --write-out '%{http_code}' --unix-socket "$socket" \
    "http://localhost/v1.41/images/$image_repo:$image_tag/json")
  if [ "$status" != 200 ]; then
    echo "error: $image_repo:$image_tag is still missing after the import: $answer" >&2
    exit 1
  fi
  echo "image $image_repo:$image_tag imported from $busybox"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  image) image ;;
  *)
    echo "usage: $0 start|stop|image" >&2
    exit 2
    ;;
esac
