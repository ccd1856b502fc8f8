#!/bin/sh
# bench/explain.sh - EXPLAIN ANALYZE the queries behind the benchmarked pages,
# with the text carebox prepares, on the data of bench/gen.sql, and fail if
# one of them reads a big table from end to end.
# usage: bench/explain.sh DBNAME [OUTDIR]  (PG* as set by pg_virtualenv; run
# after bench/gen.sql; full plans go to OUTDIR/explain.txt, default: a
# temporary directory). Exits 1 if a page query's plan has a Seq Scan on
# messages, users, sessions, inboxes, outboxes or memberships.
#
# The statements come from the build itself: bench/stmts.c prints every
# statement of route_stmts as name<TAB>sql. Each page query is PREPAREd
# under its name and planned five times with the busiest user's parameters
# before the plan is shown, so what is shown is the plan the app runs once
# a worker is warm (plan_cache_mode = auto may then switch to the generic
# plan). The few the app runs unprepared (name<TAB>sql<TAB>once: search)
# get the custom plan their values make, as in the app. Statements that change data run inside a savepoint rolled back.
# Every other statement of the app gets its generic plan checked too
# (parameters NULL, not executed), as information.
set -eu
db=${1:?usage: bench/explain.sh DBNAME [OUTDIR]}
SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
BUILDDIR=${BUILDDIR:-$(pwd)}
if [ -n "${2:-}" ]; then
	out=$2
	mkdir -p "$out"
else
	out=$(mktemp -d)
	trap 'rm -rf "$out"' EXIT
fi
BIG='messages|conversation_members|users|sessions|inboxes|outboxes|memberships'

# The statements, from the same objects the app is linked from.
make -C "$BUILDDIR" bench/stmts >/dev/null
"$BUILDDIR/bench/stmts" >"$out/stmts.tsv"

# The parameters: the busiest bench user (session "bench-1" of gen.sql).
psql -X -q -At -F ' ' -v ON_ERROR_STOP=1 -d "$db" >"$out/params" <<'SQL'
WITH u AS (
	SELECT s.user_id AS id, encode(sha256(convert_to('bench-1', 'UTF8')), 'hex') AS token,
	       i.id AS inbox, o.id AS outbox
	FROM sessions s JOIN inboxes i ON i.user_id = s.user_id JOIN outboxes o ON o.user_id = s.user_id
	WHERE s.token_hash = sha256(sha256(convert_to('bench-1', 'UTF8')))
), root AS (
	SELECT c.root_id AS id FROM conversation_members c, u
	WHERE c.user_id = u.id AND NOT c.archived AND c.received > 0
	ORDER BY c.messages DESC, 1 LIMIT 1
), sb AS (
	SELECT m.id, m.created_at FROM messages m, u WHERE m.search @@ search_query('prescription')
	AND (m.inbox_id = u.inbox OR m.outbox_id = u.outbox) ORDER BY m.created_at DESC, m.id DESC OFFSET 990 LIMIT 1
)
SELECT 'TOKEN', token FROM u
UNION ALL SELECT 'USER', id::text FROM u
UNION ALL SELECT 'INBOX', inbox::text FROM u
UNION ALL SELECT 'OUTBOX', outbox::text FROM u
UNION ALL SELECT 'BEFORE', (SELECT c.root_id::text FROM conversation_members c
	WHERE c.user_id = u.id AND NOT c.archived AND c.received > 0
	ORDER BY c.last_at DESC, c.root_id DESC
	OFFSET least(9990, (SELECT count(*) / 2 FROM conversation_members x
			    WHERE x.user_id = u.id AND NOT x.archived AND x.received > 0))
	LIMIT 1) FROM u
UNION ALL SELECT 'SENT_BEFORE', (SELECT c.root_id::text FROM conversation_members c
	WHERE c.user_id = u.id AND c.sent_id IS NOT NULL
	ORDER BY c.last_at DESC, c.root_id DESC
	OFFSET least(9990, (SELECT count(*) / 2 FROM conversation_members x
			    WHERE x.user_id = u.id AND x.sent_id IS NOT NULL))
	LIMIT 1) FROM u
UNION ALL SELECT 'ROOT', id::text FROM root
UNION ALL SELECT 'PEER', (SELECT CASE WHEN i.user_id = u.id THEN o.user_id ELSE i.user_id END::text
	FROM messages m JOIN inboxes i ON i.id = m.inbox_id JOIN outboxes o ON o.id = m.outbox_id
	WHERE m.id = root.id) FROM u, root
UNION ALL SELECT 'CLINIC', (SELECT m.clinic_id::text FROM memberships m WHERE m.user_id = u.id AND m.active
	ORDER BY m.role = 'patient', m.created_at, m.clinic_id LIMIT 1) FROM u
UNION ALL SELECT 'WORD', 'prescription'
UNION ALL SELECT 'RARE', 'zebra'
UNION ALL SELECT 'SEARCH_BEFORE', id::text FROM sb
UNION ALL SELECT 'SEARCH_BEFORE_AT', to_json(created_at) #>> '{}' FROM sb;
SQL
if [ "$(wc -l <"$out/params")" -ne 13 ] || grep -q ' $' "$out/params"; then
	echo "explain: no bench session 'bench-1' or no messages; run bench/gen.sql first" >&2
	exit 2
fi

# The page queries: name and parameters (names of the lines above, EMPTY
# for '', NULL for SQL NULL, or literals).
cat >"$out/queries" <<'EOF'
sess_load TOKEN
inbox_first TOKEN false NULL
inbox_older TOKEN false BEFORE
inbox_newer TOKEN false BEFORE
sent_first TOKEN false NULL
sent_older TOKEN false SENT_BEFORE
message_open ROOT USER
thread_page TOKEN ROOT
msg_read_thread USER ROOT
msg_may_write USER PEER CLINIC
msg_recipients USER EMPTY CLINIC EMPTY
search_walk_first TOKEN WORD NULL
search_walk_older TOKEN WORD SEARCH_BEFORE
search_walk_newer TOKEN WORD SEARCH_BEFORE
search_first INBOX OUTBOX RARE
search_older INBOX OUTBOX RARE SEARCH_BEFORE_AT SEARCH_BEFORE
EOF

# One psql script: prepare everything, then per page query five plannings
# (output discarded), one EXPLAIN ANALYZE, and one more with seq scans
# disabled to show the alternative; then the generic plans of the rest.
awk -F '\t' -v params="$out/params" -v queries="$out/queries" '
BEGIN {
	while ((getline line < params) > 0) { split(line, kv, " "); val[kv[1]] = kv[2] }
	nq = 0
	while ((getline line < queries) > 0) {
		n = split(line, w, " "); q[++nq] = w[1]; args = ""
		for (i = 2; i <= n; i++)
			args = args (i > 2 ? ", " : "") (w[i] == "NULL" ? "NULL" : "'\''" (w[i] == "EMPTY" ? "" : w[i] in val ? val[w[i]] : w[i]) "'\''")
		qargs[w[1]] = args
	}
	print "\\set ON_ERROR_STOP 1"
	print "\\pset pager off"
	print "BEGIN;"
}
{
	print "PREPARE " $1 " AS " $2 ";"
	maxp = 0; s = $2
	while (match(s, /\$[0-9]+/)) {
		p = substr(s, RSTART + 1, RLENGTH - 1) + 0; if (p > maxp) maxp = p
		s = substr(s, RSTART + RLENGTH)
	}
	nparams[$1] = maxp; names[++ns] = $1; once[$1] = $3 == "once"
}
END {
	for (i = 1; i <= nq; i++) {
		name = q[i]; page[name] = 1
		if (!(name in nparams)) { print "\\echo @@missing " name; continue }
		print "SAVEPOINT e;"
		# Planned for the values at hand, as db_exec_once does.
		if (once[name]) print "SET LOCAL plan_cache_mode = force_custom_plan;"
		print "\\o /dev/null"
		for (k = 0; k < 5; k++) print "EXPLAIN EXECUTE " name "(" qargs[name] ");"
		print "\\o"
		print "\\echo @@page " name
		print "EXPLAIN (ANALYZE, BUFFERS) EXECUTE " name "(" qargs[name] ");"
		print "ROLLBACK TO e;"
		print "SET LOCAL enable_seqscan = off;"
		print "SET LOCAL plan_cache_mode = force_custom_plan;"
		print "\\echo @@noseq " name
		print "EXPLAIN (ANALYZE) EXECUTE " name "(" qargs[name] ");"
		print "ROLLBACK TO e;"
	}
	print "SET plan_cache_mode = force_generic_plan;"
	for (i = 1; i <= ns; i++) {
		if (names[i] in page) continue
		args = ""
		for (k = 1; k <= nparams[names[i]]; k++) args = args (k > 1 ? ", " : "") "NULL"
		print "\\echo @@generic " names[i]
		print "EXPLAIN EXECUTE " names[i] (args == "" ? "" : "(" args ")") ";"
	}
	print "ROLLBACK;"
}' "$out/stmts.tsv" >"$out/explain.sql"
psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" -f "$out/explain.sql" >"$out/explain.txt"

# The report: per page query the top of its plan, its timings, whether it
# reads a big table whole (and what the plan without seq scans would cost)
# or takes longer than EXPLAIN_SLOW_MS (default 10); then the other
# statements whose generic plan reads a big table whole.
awk -v big="$BIG" -v top="${EXPLAIN_LINES:-14}" -v slow="${EXPLAIN_SLOW_MS:-10}" '
function flush(   i, t, seq, generic, ms) {
	if (name == "") return
	seq = ""; ms = ""
	for (i = 1; i <= n; i++) {
		if (match(lines[i], "Seq Scan on (" big ")( |$)")) {
			t = substr(lines[i], RSTART + 12, RLENGTH - 12); sub(/ $/, "", t)
			if (index(" " seq " ", " " t " ") == 0) seq = seq (seq == "" ? "" : " ") t
		}
		if (lines[i] ~ /^Execution Time/) { ms = lines[i]; sub(/^Execution Time: /, "", ms); sub(/ ms$/, "", ms) }
	}
	if (kind == "page") {
		generic = 0
		for (i = 1; i <= n; i++) if (lines[i] ~ /\$[0-9]/) generic = 1
		printf "== %s (%s plan)%s%s\n", name, generic ? "generic" : "custom",
			seq == "" ? "" : "   ** SEQ SCAN on " seq " **",
			(ms + 0 > slow) ? "   ** SLOW: " ms " ms **" : ""
		for (i = 1; i <= n && i <= top; i++) print "   " lines[i]
		if (n > top) print "   ... (" n - top " more lines)"
		for (i = 1; i <= n; i++) if (lines[i] ~ /^(Planning|Execution) Time/) print "   " lines[i]
		if (seq != "") { bad = bad " " name; flagged[name] = 1 }
		if (ms + 0 > slow) slowq = slowq sprintf(" %s (%.1f ms)", name, ms)
		summary = summary sprintf("   %-16s %9.3f ms%s\n", name, ms, seq == "" ? "" : "  seq scan: " seq)
	} else if (kind == "noseq" && name in flagged) {
		printf "   with enable_seqscan = off instead: %s ms\n", ms
		for (i = 1; i <= n && i <= top; i++) if (lines[i] ~ /Index|Bitmap/) print "      " lines[i]
	} else if (kind == "generic" && seq != "") {
		gen = gen sprintf("   %-22s generic plan: Seq Scan on %s\n", name, seq)
	} else if (kind == "missing") {
		printf "== %s: no such statement\n", name; bad = bad " " name
	}
	name = ""; n = 0
}
/^@@/ { flush(); kind = substr($1, 3); name = $2
	if (kind == "missing") flush(); next }
{ lines[++n] = $0 }
END {
	flush()
	printf "\nexecution times (warm plan, busiest user):\n%s", summary
	if (gen != "") printf "other statements whose generic plan scans a big table (information):\n%s", gen
	else print "other statements: no generic plan scans a big table"
	if (slowq != "") print "page queries slower than " slow " ms:" slowq
	if (bad != "") { print "PAGE QUERIES WITH A SEQ SCAN ON A BIG TABLE:" bad; exit 1 }
	print "page queries: no Seq Scan on a big table"
}' "$out/explain.txt"
