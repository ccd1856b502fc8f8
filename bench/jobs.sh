#!/bin/sh
# bench/jobs.sh - carebox-worker on a throwaway PostgreSQL (pg_virtualenv, at
# its default durable settings): how many no-op jobs a second 1 and 2
# worker processes run, draining a queue of due jobs; the time from a job's
# commit to its start (the NOTIFY wake-up) for an idle worker; a worker's
# memory (VmRSS) after 1,000 jobs and after 100,000. Run by hand from a
# configured build tree (not part of make check):
#   sh bench/jobs.sh
# The first run drains the queue of a new table (slower: its pages are
# new); the next ones, a table whose pages have been used and vacuumed, as
# a deployment's soon is.
# JOBS_BENCH_N (default 100000) jobs for 1 process, half as many for 2;
# JOBS_BENCH_LATENCY (default 200) single jobs for the latency.
set -eu
BUILDDIR=${BUILDDIR:-$(pwd)} SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
export BUILDDIR SRCDIR
if [ -z "${JOBS_BENCH_INNER:-}" ]; then
	make -C "$BUILDDIR" carebox-worker carebox-admin >/dev/null
	JOBS_BENCH_INNER=1 exec pg_virtualenv -t -o max_connections=50 -o fsync=on sh "$0"
fi

STACK_VAR="$BUILDDIR/bench/var-jobs"	# not tests/var: make check uses that
N=${JOBS_BENCH_N:-100000} LATENCY=${JOBS_BENCH_LATENCY:-200}
. "$SRCDIR/tests/stack"
rm -rf "$STACK_VAR" && mkdir -p "$STACK_VAR"
stack_db "$STACK_VAR/migrate.log"
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d carebox_test -c "$1"; }
echo "carebox $(git -C "$SRCDIR" describe --always --dirty 2>/dev/null || echo '?'), $(nproc) cores," \
	"$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)," \
	"PostgreSQL $(q 'SHOW server_version'), fsync $(q 'SHOW fsync'), synchronous_commit $(q 'SHOW synchronous_commit')"

# The worker processes of master $1.
children() { ps -o pid= --ppid "$1" | tr -d ' '; }
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }

# Starts carebox-worker -w $1 with the test kinds; waits until each
# process has connected. Sets W.
start() {
	CAREBOX_TEST_JOBS=1 "$BUILDDIR/carebox-worker" -w "$1" 2>"$STACK_VAR/worker-$1.log" &
	W=$!
	until [ "$(grep -c 'connected to the database' "$STACK_VAR/worker-$1.log")" -ge "$1" ]; do sleep 0.1; done
}
stop() { kill "$W"; wait "$W" || true; }

# Adds $1 due no-op jobs in one transaction.
add() {
	q "INSERT INTO jobs (kind, max_attempts) SELECT 'test.noop', 1 FROM generate_series(1, $1)"
}

# Waits until no no-op job is left queued or running.
drain() {
	until [ "$(q "SELECT count(*) FROM jobs WHERE kind = 'test.noop' AND state <> 'done'")" = 0 ]; do sleep 0.2; done
}

# Throughput of $1 processes over $2 jobs queued before they start:
# jobs over the time from the first claim to the last finish.
throughput() {
	q "DELETE FROM jobs WHERE kind = 'test.noop'" && q "VACUUM ANALYZE jobs"
	add "$2"
	start "$1"
	pids=$(children "$W")
	if [ "$1" = 1 ]; then
		until [ "$(q "SELECT count(*) >= 1000 FROM jobs WHERE kind = 'test.noop' AND state = 'done'")" = t ]; do
			sleep 0.05
		done
		early=$(rss "$pids")
	fi
	drain
	late=""
	for p in $pids; do late="$late $(rss "$p")"; done
	stop
	printf '%s process(es), %s jobs: %s jobs/s; VmRSS at the end (kB):%s%s\n' "$1" "$2" \
		"$(q "SELECT round(count(*) / extract(epoch FROM max(finished_at) - min(started_at))) FROM jobs
			WHERE kind = 'test.noop'")" "$late" "${early:+ (after the first 1,000: $early)}"
	early=""
}

echo
echo "== throughput of no-op jobs (the queue drained by the worker processes): on the new"
echo "   table first, then again once its pages have been used and vacuumed"
throughput 1 "$N"
throughput 2 "$((N / 2))"
throughput 1 "$N"

echo
echo "== from a job's commit to its start: $LATENCY jobs, one at a time, 20 ms apart, 1 idle process"
q "DELETE FROM jobs WHERE kind = 'test.noop'" && q "VACUUM ANALYZE jobs"
start 1
i=0
while [ "$i" -lt "$LATENCY" ]; do
	echo "INSERT INTO jobs (kind, max_attempts) VALUES ('test.noop', 1); SELECT pg_sleep(0.02);"
	i=$((i + 1))
done | psql -X -q -At -d carebox_test >/dev/null
drain
stop
q "SELECT 'median ' || round((percentile_cont(0.5) WITHIN GROUP (ORDER BY ms))::numeric, 2)
	|| ' ms, 95th percentile ' || round((percentile_cont(0.95) WITHIN GROUP (ORDER BY ms))::numeric, 2)
	|| ' ms, worst ' || round(max(ms)::numeric, 2) || ' ms'
	FROM (SELECT extract(epoch FROM started_at - created_at) * 1000 AS ms FROM jobs WHERE kind = 'test.noop') l"
echo "(created_at is the adding transaction's start, a little before its commit: the figures are upper bounds)"
rm -rf "$STACK_VAR"
