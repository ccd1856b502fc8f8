#!/bin/sh
# bench/run.sh - load carebox's pages with wrk through nginx on 127.0.0.1 and
# report requests/s, latency and worker memory, next to a minimal FastCGI
# responder that returns the same bytes from memory.
# usage: bench/run.sh (from a configured build tree; runs in pg_virtualenv)
# A throwaway cluster gets the data set of bench/gen.sql (10,000 users, a
# million messages), bench/explain.sh checks the page queries' plans, then
# every load is bounded: wrk -d $BENCH_SECONDS (default 10) per page and a
# soak of /inbox bounded by $BENCH_SOAK_MAX_SECONDS (default 240), then
# $BENCH_ROUNDS (default 3) rounds of /inbox against both baselines. Outputs
# are kept in $BUILDDIR/bench/out. Exits non-zero if explain.sh finds a
# page query reading a big table whole.
set -eu
BUILDDIR=${BUILDDIR:-$(pwd)} SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
CAREBOX_NGINX=${CAREBOX_NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
export BUILDDIR SRCDIR CAREBOX_NGINX
make -C "$BUILDDIR" carebox carebox-admin libcarebox.a bench/fcgi_static >/dev/null
# A server sized like a small production one: the hot data fits in memory.
exec pg_virtualenv -t -o max_connections=50 -o shared_buffers=512MB -o max_wal_size=4GB \
	sh "$SRCDIR/bench/inner.sh"
