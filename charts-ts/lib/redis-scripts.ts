/**
 * Shell scripts of the Sentinel-managed Redis pods (charts-ts/lib/redis.ts), run by the
 * official image's `sh` and `redis-cli`. Kept in a ConfigMap so `kubectl get cm redis-scripts`
 * shows exactly what runs. Env of every script: POD_NAME, DOMAIN (the headless Service's
 * DNS suffix), MASTER_NAME; the bootstrap also gets REPLICAS, QUORUM, DOWN_AFTER_MS,
 * FAILOVER_TIMEOUT_MS and MAXMEMORY_MB.
 */

/**
 * Init container: decides who is primary and writes both config files into the writable
 * /conf emptyDir (sentinel and `CONFIG REWRITE` rewrite them). Whoever the sentinels name is
 * the primary; when none answers (the first start of the set, or all pods down at once)
 * ordinal 0 is. Hostnames, not pod IPs, are announced: IPs change with every restart.
 */
export const BOOTSTRAP_SH = `set -eu
self="$POD_NAME.$DOMAIN"
set_name="\${POD_NAME%-*}"
primary=""
i=0
while [ "$i" -lt "$REPLICAS" ]; do
  peer="$set_name-$i.$DOMAIN"
  if [ "$set_name-$i" != "$POD_NAME" ]; then
    answer="$(timeout 3 redis-cli --raw -h "$peer" -p 26379 SENTINEL get-master-addr-by-name "$MASTER_NAME" 2>/dev/null | head -n 1 || true)"
    case "$answer" in ''|ERR*|*' '*) ;; *) primary="$answer"; break ;; esac
  fi
  i=$((i + 1))
done
if [ -z "$primary" ]; then
  primary="$set_name-0.$DOMAIN"
  echo "no sentinel names a primary: first start (or all pods were down); $primary is the primary"
else
  echo "the sentinels name $primary as primary"
fi
# Sentinel refuses a monitor target it cannot resolve; a peer's record appears once its pod has an IP.
n=0
until getent hosts "$primary" >/dev/null; do
  n=$((n + 1)); [ "$n" -le 90 ] || { echo "cannot resolve $primary"; exit 1; }
  sleep 2
done
{
  echo "port 6379"
  echo "protected-mode no"
  echo "dir /data"
  echo "appendonly yes"
  echo "appendfsync everysec"
  echo "maxmemory \${MAXMEMORY_MB}mb"
  echo "maxmemory-policy noeviction"
  echo "replica-announce-ip $self"
  echo "replica-announce-port 6379"
  if [ "$primary" != "$self" ]; then echo "replicaof $primary 6379"; fi
} > "\${CONF_DIR:-/conf}/redis.conf"
{
  echo "port 26379"
  echo "protected-mode no"
  echo "dir /conf"
  echo "sentinel resolve-hostnames yes"
  echo "sentinel announce-hostnames yes"
  echo "sentinel announce-ip $self"
  echo "sentinel announce-port 26379"
  echo "sentinel monitor $MASTER_NAME $primary 6379 $QUORUM"
  echo "sentinel down-after-milliseconds $MASTER_NAME $DOWN_AFTER_MS"
  echo "sentinel failover-timeout $MASTER_NAME $FAILOVER_TIMEOUT_MS"
  echo "sentinel parallel-syncs $MASTER_NAME 1"
} > "\${CONF_DIR:-/conf}/sentinel.conf"
`;

/** Readiness of a Redis server: answers PING, and a replica has a live link to its primary. */
export const REDIS_READY_SH = `set -eu
[ "$(timeout 2 redis-cli -p 6379 PING)" = PONG ]
info="$(timeout 2 redis-cli -p 6379 INFO replication)"
case "$info" in *role:slave*) echo "$info" | grep -q '^master_link_status:up' ;; esac
`;

/** Readiness of a sentinel: answers PING and knows a primary. */
export const SENTINEL_READY_SH = `set -eu
[ "$(timeout 2 redis-cli -p 26379 PING)" = PONG ]
[ -n "$(timeout 2 redis-cli --raw -p 26379 SENTINEL get-master-addr-by-name "$MASTER_NAME" | head -n 1)" ]
`;

/**
 * preStop of a Redis server: a primary being stopped on purpose (drain, rollout) hands over
 * first, so writes pause for a switch instead of down-after-milliseconds. A peer's sentinel
 * runs the `SENTINEL FAILOVER`: this pod's own sentinel is being stopped at the same moment.
 * Bounded: after 20 s the stop proceeds and Sentinel fails over the usual way.
 */
export const REDIS_PRESTOP_SH = `self="$POD_NAME.$DOMAIN"
set_name="\${POD_NAME%-*}"
current="$(timeout 2 redis-cli --raw -p 26379 SENTINEL get-master-addr-by-name "$MASTER_NAME" | head -n 1)"
[ "$current" = "$self" ] || exit 0
i=0
while [ "$i" -lt "$REPLICAS" ]; do
  peer="$set_name-$i.$DOMAIN"
  if [ "$peer" != "$self" ] && [ "$(timeout 2 redis-cli -h "$peer" -p 26379 SENTINEL FAILOVER "$MASTER_NAME")" = OK ]; then break; fi
  i=$((i + 1))
done
n=0
while [ "$n" -lt 20 ]; do
  timeout 2 redis-cli -p 6379 ROLE | head -n 1 | grep -q slave && exit 0
  n=$((n + 1)); sleep 1
done
`;
