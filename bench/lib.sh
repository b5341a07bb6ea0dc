# Shared by the bench/*.sh scripts: source it, don't run it.
#
#   . "$(dirname "$0")/lib.sh"
#   bench_init                       # $repo, $work (removed on exit unless
#                                    # BENCH_KEEP is set; under $TMPDIR), $EDGEIMG
#   need wrk nginx                   # apt-get install what is missing
#   need_sharp                       # npm install sharp (libvips) once
#   start_edgeimg NAME [edgeimg up args...]   # sets $addr and $last_pid
#   id=$(upload "$addr" photo.jpg)
#   rps=$(wrk_rps NAME URL)          # logs req/s and p99, prints req/s
#
# Every process started through here is killed when the script exits.

set -euo pipefail

bench_init() {
  repo=$(cd "$(dirname "${BASH_SOURCE[1]}")/.." && pwd)
  EDGEIMG=${EDGEIMG:-$repo/target/release/edgeimg}
  work=$(mktemp -d)
  # nginx workers run as an unprivileged user and must read what is below.
  chmod 755 "$work"
  bench_pids=()
  trap bench_cleanup EXIT
}

bench_cleanup() {
  for pid in "${bench_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ -n "${BENCH_KEEP:-}" ] && echo "kept $work" >&2 || rm -rf "$work"
}

# need PACKAGE...: installs Debian packages whose command is missing (the
# command is the package name, but for libvips-tools → vipsthumbnail).
need() {
  local missing=() pkg cmd
  for pkg in "$@"; do
    case $pkg in
      libvips-tools) cmd=vipsthumbnail ;;
      redis-server) cmd=redis-server ;;
      *) cmd=$pkg ;;
    esac
    command -v "$cmd" >/dev/null || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "installing ${missing[*]} (apt)" >&2
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 ||
    { $sudo apt-get update -qq && $sudo apt-get install -y -qq "${missing[@]}" >/dev/null; }
}

# need_sharp: installs sharp 0.35 (bundles libvips 8.18) under $SHARP_PREFIX
# (default ~/.cache/edgeimg-bench) when missing, and exports SHARP_PREFIX.
need_sharp() {
  export SHARP_PREFIX=${SHARP_PREFIX:-$HOME/.cache/edgeimg-bench}
  if [ ! -d "$SHARP_PREFIX/node_modules/sharp" ]; then
    mkdir -p "$SHARP_PREFIX"
    [ -f "$SHARP_PREFIX/package.json" ] || echo '{"private":true}' >"$SHARP_PREFIX/package.json"
    (cd "$SHARP_PREFIX" && npm install --silent --no-audit --no-fund sharp@0.35)
  fi
}

# The photo corpus folder ($EDGEIMG_CORPUS, else scripts/corpus.sh fills it).
corpus_dir() {
  echo "${EDGEIMG_CORPUS:-$(bash "$repo/scripts/corpus.sh")}"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start_bg NAME CMD...: runs CMD in the background (stdout NAME.out, stderr
# NAME.log under $work), waits for its "listening on http://ADDR" line and
# sets $addr to ADDR and $last_pid to the process id. (Not through $(...):
# the process must be started by this shell so the exit trap can stop it.)
start_bg() {
  local name=$1 i
  addr=""
  shift
  "$@" >"$work/$name.out" 2>"$work/$name.log" &
  last_pid=$!
  bench_pids+=("$last_pid")
  for i in $(seq 1 6000); do
    addr=$(sed -n 's#.*listening on http://##p' "$work/$name.out" | head -1)
    [ -n "$addr" ] && break
    kill -0 "$last_pid" 2>/dev/null || { echo "$name exited:" >&2; cat "$work/$name.log" >&2; exit 1; }
    sleep 0.01
  done
  [ -n "$addr" ] || { echo "$name did not start:" >&2; cat "$work/$name.log" >&2; exit 1; }
}

# start_edgeimg NAME [ARGS...]: `edgeimg up` of spin.toml
# on a free loopback port with data dir $work/NAME; sets $addr and $last_pid.
start_edgeimg() {
  local name=$1
  shift
  [ -x "$EDGEIMG" ] || { echo "no host binary at $EDGEIMG (cargo build --release -p edgeimg)" >&2; exit 1; }
  start_bg "$name" "$EDGEIMG" up -f "$repo/spin.toml" --listen 127.0.0.1:0 \
    --data-dir "$work/$name" "$@"
}

# upload ADDR FILE: uploads FILE, prints its id.
upload() {
  curl -sf --data-binary @"$2" -H 'content-type: application/octet-stream' "http://$1/upload" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'
}

# wrk_rps NAME URL: a wrk run with $THREADS/$CONNECTIONS/$DURATION; logs
# req/s and p99 to stderr and prints req/s.
wrk_rps() {
  local out rps p99
  out=$(wrk -t"${THREADS:-2}" -c"${CONNECTIONS:-32}" -d"${DURATION:-10s}" --latency "$2")
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  printf '%-28s %10s req/s   p99 %8s\n' "$1" "$rps" "$p99" >&2
  echo "$rps"
}

# metric ADDR NAME{LABELS}: one value from /metrics.
metric() {
  curl -sf "http://$1/metrics" | awk -v m="$2" '$1 == m {print $2}'
}
