#!/usr/bin/env bash
# A throwaway 3-master Redis Cluster on loopback, for tests and CI (never the shared Redis).
#   scripts/redis-cluster.sh start [DIR]   starts it, prints the seed list "127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3"
#   scripts/redis-cluster.sh stop  [DIR]   stops its processes by pid and removes DIR
# Ports: the first three free ones from REDIS_CLUSTER_BASE_PORT (default 7101), whose cluster-bus
# ports (+10000) are free too. Each node keeps its config, log and pid file under DIR.
set -euo pipefail
cmd=${1:-}
dir=${2:-${REDIS_CLUSTER_DIR:-/tmp/sessiond-redis-cluster}}

in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

stop() {
  [ -d "$dir" ] || return 0
  for pidfile in "$dir"/*/redis.pid; do
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  rm -rf "$dir"
}

start() {
  if [ -f "$dir/nodes" ]; then echo "a cluster is already running from $dir (stop it first)" >&2; exit 1; fi
  mkdir -p "$dir"
  ports=()
  base=${REDIS_CLUSTER_BASE_PORT:-7101}
  p=$base
  while [ ${#ports[@]} -lt 3 ]; do
    if ! in_use "$p" && ! in_use $((p + 10000)); then ports+=("$p"); fi
    p=$((p + 1))
    [ "$p" -lt $((base + 500)) ] && [ "$p" -le 55535 ] || { echo "no free ports from $base" >&2; exit 1; }
  done
  for port in "${ports[@]}"; do
    mkdir -p "$dir/$port"
    redis-server --port "$port" --bind 127.0.0.1 --cluster-enabled yes --cluster-config-file "nodes-$port.conf" \
      --cluster-node-timeout 2000 --appendonly no --save '' --dir "$dir/$port" --daemonize yes \
      --pidfile "$dir/$port/redis.pid" --logfile "$dir/$port/redis.log"
  done
  for port in "${ports[@]}"; do
    for _ in $(seq 1 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
    redis-cli -p "$port" ping >/dev/null 2>&1 || { echo "node $port did not start:" >&2; tail -5 "$dir/$port/redis.log" >&2; stop; exit 1; }
  done
  seeds=$(printf '127.0.0.1:%s ' "${ports[@]}")
  # shellcheck disable=SC2086
  redis-cli --cluster create $seeds --cluster-replicas 0 --cluster-yes >"$dir/create.log" 2>&1 \
    || { cat "$dir/create.log" >&2; stop; exit 1; }
  for _ in $(seq 1 100); do
    ok=1
    for port in "${ports[@]}"; do
      redis-cli -p "$port" cluster info 2>/dev/null | grep -q 'cluster_state:ok' || ok=0
    done
    [ "$ok" = 1 ] && break
    sleep 0.1
  done
  [ "$ok" = 1 ] || { echo "cluster did not become ok" >&2; stop; exit 1; }
  list=$(printf '127.0.0.1:%s,' "${ports[@]}")
  echo "${list%,}" | tee "$dir/nodes"
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop [DIR]" >&2; exit 2 ;;
esac
