#!/usr/bin/env bash
# The whole picture on loopback: a signer, a log, two monitors that witness
# the log and gossip with each other, and a verifier that requires both
# witnesses' cosignatures. Run from a checkout after `npm install`:
#
#   bash docs/demo.sh            # leaves nothing running; prints each step
#   KEEP=1 bash docs/demo.sh     # keeps the log and monitors running until Ctrl-C
#
# Ports: LOG_PORT (default 18080), MON_A_PORT (18081), MON_B_PORT (18082).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin="$here/dist/cmd/vitrine.js"
vitrine() { node "$bin" "$@"; }
LOG_PORT=${LOG_PORT:-18080}
MON_A_PORT=${MON_A_PORT:-18081}
MON_B_PORT=${MON_B_PORT:-18082}
ORIGIN=demo.localhost/vitrine
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
step() { printf '\n== %s\n' "$*"; }
# Waits until process $1 logs (in file $2) that it listens on port $3; if it exits first
# (a port already taken, say), shows its log. Its own line, not an answer on the port:
# another program already on that port would answer too.
wait_listen() {
  for _ in $(seq 1 200); do
    grep -q "\"listen\":\"127.0.0.1:$3\"" "$2" 2>/dev/null && return 0
    kill -0 "$1" 2>/dev/null || { echo "exited before listening on port $3:" >&2; cat "$2" >&2; return 1; }
    sleep 0.1
  done
  echo "timed out waiting for port $3" >&2; return 1
}

step "keys: the log's, two witnesses' and a release signer's"
LOG_VKEY=$(vitrine keygen --name "$ORIGIN" --out log.key 2>/dev/null)
W_A=$(vitrine keygen --name witness-a.localhost --out wa.key --cosigner 2>/dev/null)
W_B=$(vitrine keygen --name witness-b.localhost --out wb.key --cosigner 2>/dev/null)
SIGNER=$(vitrine keygen --name release@demo.localhost --out release.key 2>/dev/null)
echo "log      $LOG_VKEY"
echo "witness  $W_A"
echo "witness  $W_B"
echo "signer   $SIGNER"

step "two monitors: each audits the log, cosigns its checkpoints as a witness, and gossips with the other"
for m in a b; do
  port=$MON_A_PORT; peer=$MON_B_PORT
  [ "$m" = b ] && { port=$MON_B_PORT; peer=$MON_A_PORT; }
  # node itself runs in the background (not a shell function), so $! is its pid and cleanup can stop it.
  node "$bin" monitor --state "mon-$m" --init --log "http://127.0.0.1:$LOG_PORT" --log-key "$LOG_VKEY" \
    --witness-key "w$m.key" --listen "127.0.0.1:$port" --peer "http://127.0.0.1:$peer" --interval 1 \
    > "mon-$m.alerts" 2> "mon-$m.log" &
  pids+=($!)
  wait_listen "$!" "mon-$m.log" "$port"
done

step "the log: every checkpoint needs both witnesses' cosignatures (quorum 2)"
node "$bin" serve --data log-data --key log.key --origin "$ORIGIN" --listen "127.0.0.1:$LOG_PORT" --batch-interval 50 \
  --witness "http://127.0.0.1:$MON_A_PORT=$W_A" --witness "http://127.0.0.1:$MON_B_PORT=$W_B" --quorum 2 \
  > log.out 2> log.log &
pids+=($!)
wait_listen "$!" log.log "$LOG_PORT"

step "the signer signs a release and submits it; the bundle is verified before it is written"
echo "demo release $(date +%s%N)" > app-1.0.0.tar.gz
vitrine submit --log "http://127.0.0.1:$LOG_PORT" --log-key "$LOG_VKEY" --witness "$W_A" --witness "$W_B" --quorum 2 \
  --key release.key --name pkg:generic/app@1.0.0 app-1.0.0.tar.gz
sed -n '1,3p' app-1.0.0.tar.gz.tlog-proof

step "a verifier checks it offline: log key, pinned signer, expected name, both witnesses"
vitrine verify --log-key "$LOG_VKEY" --signer "$SIGNER" --name pkg:generic/app@1.0.0 \
  --witness "$W_A" --witness "$W_B" --quorum 2 app-1.0.0.tar.gz

step "a tampered artifact is refused"
cp app-1.0.0.tar.gz evil.tar.gz; echo x >> evil.tar.gz
if vitrine verify --log-key "$LOG_VKEY" --witness "$W_A" --witness "$W_B" --quorum 2 evil.tar.gz app-1.0.0.tar.gz.tlog-proof; then
  echo "BUG: a tampered artifact verified" >&2; exit 1
fi

step "the monitors agree: no evidence, no security alert"
sleep 2
curl -fsS "http://127.0.0.1:$MON_A_PORT/v1/evidence"; echo
curl -fsS "http://127.0.0.1:$MON_B_PORT/v1/evidence"; echo
if grep -q '"class":"security"' mon-a.alerts mon-b.alerts; then echo "unexpected security alert" >&2; exit 1; fi

if [ -n "${KEEP:-}" ]; then
  step "running: log http://127.0.0.1:$LOG_PORT, monitors :$MON_A_PORT and :$MON_B_PORT (Ctrl-C to stop)"
  wait
fi
step "done"
