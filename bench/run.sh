#!/bin/sh
# bench/run.sh - load carebox's pages with wrk through nginx on 127.0.0.1 and
# report requests/s, latency and worker memory, next to a minimal FastCGI
# responder that returns the same bytes from memory.
# usage: bench/run.sh (from a configured build tree; runs in pg_virtualenv)
# Every run is bounded: wrk -d $BENCH_SECONDS (default 10) per page.
set -eu
BUILDDIR=${BUILDDIR:-$(pwd)} SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
CAREBOX_NGINX=${CAREBOX_NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
export BUILDDIR SRCDIR CAREBOX_NGINX
make -C "$BUILDDIR" carebox carebox-admin bench/fcgi_static >/dev/null
exec pg_virtualenv -t -o max_connections=50 sh "$SRCDIR/bench/inner.sh"
