# bench/inner.sh - the body of bench/run.sh, inside pg_virtualenv: loads the
# data set of bench/gen.sql, explains the page queries (bench/explain.sh),
# then loads the pages of the busiest user with wrk through nginx, watches
# the workers' memory over a soak of /inbox, and compares /inbox, round by
# round, with a minimal FastCGI responder serving the same bytes. Everything
# is bounded in time.
set -eu
STACK_VAR=${STACK_VAR:-$BUILDDIR/bench/var}	# not tests/var: make check uses that
OUT=${BENCH_OUT:-$BUILDDIR/bench/out}
. "$SRCDIR/tests/stack"
SECONDS_EACH=${BENCH_SECONDS:-10}
CONNS=${BENCH_CONNECTIONS:-32}
SOAK_REQUESTS=${BENCH_SOAK_REQUESTS:-100000}
SOAK_MAX_SECONDS=${BENCH_SOAK_MAX_SECONDS:-240}
rm -rf "$OUT" && mkdir -p "$OUT"
rc=0

echo "carebox $(git -C "$SRCDIR" describe --always --dirty 2>/dev/null || echo '?'), $(nproc) cores," \
	"PostgreSQL $(psql -X -At -c 'SHOW server_version' postgres), shared_buffers" \
	"$(psql -X -At -c 'SHOW shared_buffers' postgres)"

# The data set.
stack_db "$OUT/migrate.log"
t0=$(date +%s.%N)
psql -X -q -At -F "$(printf '\t')" -v ON_ERROR_STOP=1 -d carebox_test \
	-f "$SRCDIR/bench/gen.sql" >"$OUT/gen.out" 2>"$OUT/gen.log" || { cat "$OUT/gen.log"; exit 1; }
t1=$(date +%s.%N)
sed 's/^/  /' "$OUT/gen.log"
echo "gen.sql: $(echo "$t1 - $t0" | bc) s; $(psql -X -At -d carebox_test -c \
	"SELECT pg_size_pretty(pg_database_size(current_database()))") database"
val() { awk -F '\t' -v k="$1" -v w="$2" '$1 == k && $2 == w { print $3 }' "$OUT/gen.out"; }
TOKEN=$(val token busiest) BEFORE=$(val before busiest) ROOT=$(val root busiest) WORD=$(val word search)
echo "busiest user $(val user busiest): $(val received busiest) messages received;" \
	"typical patient: $(val received typical); a busy doctor: $(val received busy)"

# The query plans.
echo
echo "== EXPLAIN (ANALYZE, BUFFERS) of the page queries, busiest user (bench/explain.sh)"
(cd "$OUT" && BUILDDIR="$BUILDDIR" SRCDIR="$SRCDIR" sh "$SRCDIR/bench/explain.sh" carebox_test "$OUT/explain") ||
	{ rc=$?; echo "explain.sh: exit $rc"; }

# The stack, on that database; the bench sessions must not have idled out.
psql -X -q -d carebox_test -c "UPDATE sessions SET last_seen_at = now(), expires_at = now() + interval '1 day'
	WHERE token_hash = sha256(decode('$TOKEN', 'hex'))"
STACK_KEEP_DB=1 stack_start >/dev/null
U="$STACK_URL"
COOKIE="Cookie: carebox_session=$TOKEN"

# Memory of the app: per process VmRSS, VmHWM (peak RSS) and Pss (RSS with
# shared pages divided among their users), in KiB, and the sum of each.
mem() {
	echo "memory $1 (KiB):"
	for p in "$STACK_APP_PID" $(ps -o pid= --ppid "$STACK_APP_PID"); do
		[ "$p" = "$STACK_APP_PID" ] && who=master || who="worker:$p"
		awk -v who="$who" '/^VmRSS/ { r = $2 } /^VmHWM/ { h = $2 } /^Pss:/ { s = $2 }
			END { printf "  %-14s VmRSS %7d  VmHWM %7d  Pss %7d\n", who, r, h, s }' \
			"/proc/$p/status" "/proc/$p/smaps_rollup"
	done | tee "$OUT/mem.tmp"
	awk '{ r += $3; h += $5; s += $7 } END { printf "  %-14s VmRSS %7d  VmHWM %7d  Pss %7d\n", "whole app", r, h, s }' "$OUT/mem.tmp"
}

# One wrk run: "path req/s p50 p99", then the status codes and errors.
# Afterwards waits until the app has drained what nginx queued.
# "steal" is the share of CPU time the hypervisor gave to other machines
# during the run (from /proc/stat): on a shared host it moves the figures.
cpu_times() { awk '/^cpu / { print $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9, $9 }' /proc/stat; }
# load PATH [SECONDS] [BASE URL, default the app's] [LABEL]
load() {
	before=$(cpu_times)
	wrk -t2 -c"$CONNS" -d"${2:-$SECONDS_EACH}s" --timeout 30s --latency -H "$COOKIE" "${3:-$U}$1" >"$OUT/wrk.out" 2>&1 || true
	steal=$(echo "$before $(cpu_times)" | awk '{ printf "%.0f", ($3 > $1 ? 100 * ($4 - $2) / ($3 - $1) : 0) }')
	awk -v path="${4:-$1}" -v steal="$steal" 'BEGIN { gsub(/[0-9a-f]+-[0-9a-f]+-[0-9a-f]+-[0-9a-f]+-[0-9a-f]+/, "<id>", path) } /Requests\/sec/ { rps = $2 } / 50% / { p50 = $2 } / 99% / { p99 = $2 }
		/requests in/ { n = $1 } /Non-2xx/ { bad = $NF } /Socket errors/ { err = $0 }
		END { printf "%-26s %9s req/s   p50 %8s   p99 %8s   %s requests, %s non-2xx/3xx, steal %s%%%s\n",
			path, rps, p50, p99, n, bad + 0, steal, err == "" ? "" : ";" err }' "$OUT/wrk.out"
	awk '/Requests\/sec/ { print $2 }' "$OUT/wrk.out" >"$OUT/rps"
	awk '/requests in/ { print $1 }' "$OUT/wrk.out" >"$OUT/count"
	curl -s -o /dev/null -m 120 "$U/healthz" || true
}

# What each page answers, once (this also warms the workers' plans).
echo
echo "== pages of the busiest user through nginx (first response: status, bytes, time)"
for path in /inbox "/inbox?before=$BEFORE" /sent /archive "/messages/$ROOT" "/search?q=$WORD" "/search?q=zebra"; do
	curl -s -o "$OUT/page.html" -w "  %{http_code} %{size_download} B %{time_total} s  $path\n" -m 60 -H "$COOKIE" "$U$path"
done
curl -s -o "$OUT/inbox.html" -H "$COOKIE" "$U/inbox"
grep -q 'carebox' "$OUT/inbox.html" || echo "  odd: the /inbox page does not look like carebox's"

echo
mem "before the runs"
echo "wrk -t2 -c$CONNS -d${SECONDS_EACH}s through nginx on 127.0.0.1:"
load /healthz
load /inbox
load "/inbox?before=$BEFORE"
load /sent
load /archive
load "/messages/$ROOT"
load "/search?q=$WORD"
# A word no message has: the walk reads its 100 + 100 messages in vain,
# and the search planned for the word answers (src/page_search.c).
load "/search?q=zebra"
mem "after the runs"

# The soak: bounded runs of /inbox until SOAK_REQUESTS or SOAK_MAX_SECONDS.
echo
echo "soak: /inbox until $SOAK_REQUESTS requests or ${SOAK_MAX_SECONDS}s, worker Pss after each run (KiB)"
done_n=0 start=$(date +%s)
while [ "$done_n" -lt "$SOAK_REQUESTS" ] && [ $(($(date +%s) - start)) -lt "$SOAK_MAX_SECONDS" ]; do
	load /inbox 15 | sed 's/^/  /'
	done_n=$((done_n + $(cat "$OUT/count")))
	echo "    total $done_n requests; Pss:$(for p in $(ps -o pid= --ppid "$STACK_APP_PID"); do
		awk '/^Pss:/ { printf " %d", $2 }' "/proc/$p/smaps_rollup"; done)"
done
[ "$done_n" -ge "$SOAK_REQUESTS" ] || echo "  soak stopped by its time bound at $done_n requests"
mem "after the soak"

# The baseline: the same /inbox bytes from a minimal responder behind the
# same nginx.conf, two processes like the app: libfcgi's plain loop, and
# (-c) the same loop closing connections the way carebox does. The target
# is set against the first; the second shows what is left once the close
# costs nothing. Both run beside carebox, each behind an nginx of its own,
# and the rounds alternate the three, so a ratio compares runs made
# seconds apart: on a shared host the steal time moves all figures.
BASE_PIDS=
base_start() {	# DIR PORT [fcgi_static options]
	dir=$1 port=$2
	shift 2
	rm -rf "$dir" && mkdir -p "$dir" && chmod 755 "$dir"
	"$SRCDIR/scripts/nginx-conf" "$dir" "$port" "$SRCDIR/static" <"$SRCDIR/nginx.conf" >"$dir/nginx.conf"
	python3 - "$dir/carebox.sock" "$BUILDDIR/bench/fcgi_static" "$@" "$OUT/inbox.html" <<'PY' &
import os, socket, sys
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); os.chmod(sys.argv[1], 0o666); s.listen(1024)
os.dup2(s.fileno(), 0)
for _ in range(2):
    if os.fork() == 0:
        os.execv(sys.argv[2], sys.argv[2:])
os.wait(); os.wait()
PY
	BASE_PIDS="$BASE_PIDS $!"
	"$CAREBOX_NGINX" -p "$dir" -c "$dir/nginx.conf" -g 'daemon off;' 2>/dev/null &
	BASE_PIDS="$BASE_PIDS $!"
}
base_start "$STACK_VAR/base" $((STACK_PORT + 100))
base_start "$STACK_VAR/base-c" $((STACK_PORT + 101)) -c
sleep 0.5
ROUNDS=${BENCH_ROUNDS:-3}
echo
echo "rounds: carebox /inbox, the baseline (the same $(wc -c <"$OUT/inbox.html")-byte page from memory) and the -c baseline, back to back:"
for round in $(seq "$ROUNDS"); do
	load /inbox "" "" "carebox /inbox" | sed 's/^/  /'
	app=$(cat "$OUT/rps")
	load /inbox "" "http://127.0.0.1:$((STACK_PORT + 100))" "baseline" | sed 's/^/  /'
	base=$(cat "$OUT/rps")
	load /inbox "" "http://127.0.0.1:$((STACK_PORT + 101))" "baseline -c" | sed 's/^/  /'
	quick=$(cat "$OUT/rps")
	echo "  round $round: carebox /inbox at $(echo "scale=2; $app / $base" | bc) of the baseline's requests/s," \
		"$(echo "scale=2; $app / $quick" | bc) of the -c baseline's"
done
for p in $BASE_PIDS; do
	pkill -P "$p" 2>/dev/null || true
	kill "$p" 2>/dev/null || true
done
stack_stop
wait 2>/dev/null || true
echo "outputs (plans, wrk, gen.out): $OUT"
exit "$rc"
