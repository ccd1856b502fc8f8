# bench/inner.sh - the body of bench/run.sh, inside pg_virtualenv.
set -eu
. "$SRCDIR/tests/stack"
SECONDS_EACH=${BENCH_SECONDS:-10}
CONNS=${BENCH_CONNECTIONS:-32}
stack_start >/dev/null
U="$STACK_URL"

# Worker RSS in KiB, one number per worker of the carebox master.
rss() {
	for p in $(ps -o pid= --ppid "$STACK_APP_PID"); do
		awk '/^VmRSS/ { printf "%s ", $2 }' "/proc/$p/status"
	done
}

# One wrk run: prints "path req/s p50 p99".
load() {
	wrk -t2 -c"$CONNS" -d"${SECONDS_EACH}s" --latency ${2:+-H "$2"} "$U$1" >"$STACK_VAR/wrk.out"
	awk -v path="$1" '/Requests\/sec/ { rps = $2 } / 50% / { p50 = $2 } / 99% / { p99 = $2 }
		END { printf "%-28s %10s req/s   p50 %8s   p99 %8s\n", path, rps, p50, p99 }' "$STACK_VAR/wrk.out"
}

echo "carebox $(git -C "$SRCDIR" describe --always --dirty 2>/dev/null || echo '?'), $(nproc) cores, wrk -c$CONNS -d${SECONDS_EACH}s through nginx"
echo "worker RSS before (KiB): $(rss)"
load /healthz
load /login
curl -s "$U/login" >"$STACK_VAR/login.html"
echo "worker RSS after (KiB):  $(rss)"
stack_stop

# The baseline: the same /login bytes from a minimal responder, same nginx.
"$SRCDIR/scripts/nginx-conf" "$STACK_VAR" "$STACK_PORT" "$SRCDIR/static" \
	<"$SRCDIR/nginx.conf" >"$STACK_VAR/nginx.conf"
rm -f "$STACK_VAR/carebox.sock"
python3 - "$STACK_VAR/carebox.sock" "$BUILDDIR/bench/fcgi_static" "$STACK_VAR/login.html" <<'PY' &
import os, socket, sys
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); os.chmod(sys.argv[1], 0o666); s.listen(1024)
os.dup2(s.fileno(), 0)
for _ in range(2):
    if os.fork() == 0:
        os.execv(sys.argv[2], [sys.argv[2], sys.argv[3]])
os.wait(); os.wait()
PY
BASE_PID=$!
"$CAREBOX_NGINX" -p "$STACK_VAR" -c "$STACK_VAR/nginx.conf" -g 'daemon off;' 2>/dev/null &
NG=$!
sleep 0.5
echo "baseline (same bytes from memory, 2 processes):"
load /login
kill "$NG"
pkill -P "$BASE_PID" 2>/dev/null || true
kill "$BASE_PID" 2>/dev/null || true
wait 2>/dev/null || true
