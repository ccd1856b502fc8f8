#!/bin/sh
# test_render.sh - carebox-render from the outside: output, partials, parents, errors.
set -u
: "${BUILDDIR:?}"
RENDER="$BUILDDIR/carebox-render"
T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT
n=0 failed=0

# check DESCRIPTION COMMAND...: one TAP line, ok if the command succeeds.
check() {
	desc=$1
	shift
	n=$((n + 1))
	if "$@"; then
		echo "ok $n - $desc"
	else
		echo "not ok $n - $desc"
		failed=$((failed + 1))
	fi
}

# same FILE TEXT: the file holds exactly TEXT (printf format), byte for byte.
same() {
	printf "$2" >"$T/want"
	cmp -s "$1" "$T/want" || { echo "# got:"; od -c "$1" | sed 's/^/#   /'; return 1; }
}

# Runs carebox-render with the given arguments, output to $T/out and $T/err.
run() {
	"$RENDER" "$@" >"$T/out" 2>"$T/err"
	echo $? >"$T/rc"
}

rc_is() {
	[ "$(cat "$T/rc")" = "$1" ]
}

err_is() {
	grep -qF "$1" "$T/err" || { echo "# stderr:"; sed 's/^/#   /' "$T/err"; return 1; }
}

printf 'Hello {{who}}, {{{raw}}} {{n}} {{x}}{{#l}}[{{.}}]{{/l}}' >"$T/page.mustache"
printf '{"who": "<Ann & Bob>", "raw": "<b>", "n": 85, "x": 1.21, "l": ["a", "b"]}\n' >"$T/data.json"
run "$T/page.mustache" "$T/data.json"
check "renders a template" rc_is 0
check "byte for byte, no newline added" same "$T/out" \
	'Hello &lt;Ann &amp; Bob&gt;, <b> 85 1.21[a][b]'
check "nothing on stderr" [ ! -s "$T/err" ]

printf 'line\n' >"$T/nl.mustache"
run "$T/nl.mustache" "$T/data.json"
check "a final newline of the template is kept" same "$T/out" 'line\n'

mkdir "$T/parts" "$T/pages"
printf '<ul>\n  {{>row}}\n</ul>\n' >"$T/pages/list.mustache"
printf '<li>{{name}}</li>\n{{>*extra}}' >"$T/parts/row.mustache"
printf '<!-- {{name}} -->\n' >"$T/parts/more.mustache"
printf '{"name": "x", "extra": "more"}' >"$T/list.json"
run --partials "$T/parts" "$T/pages/list.mustache" "$T/list.json"
check "--partials DIR, indented partial, dynamic partial" same "$T/out" \
	'<ul>\n  <li>x</li>\n  <!-- x -->\n</ul>\n'

printf '<main>\n  {{$body}}\n  {{/body}}\n</main>\n' >"$T/pages/layout.mustache"
printf '{{<layout}}\n{{$body}}\n<p>{{name}}</p>\n{{/body}}\n{{/layout}}\n' >"$T/pages/page.mustache"
run "$T/pages/page.mustache" "$T/list.json"
check "a parent from the template's folder" same "$T/out" \
	'<main>\n  <p>x</p>\n</main>\n'

printf 'ok\n{{#open}}\n' >"$T/broken.mustache"
run "$T/broken.mustache" "$T/data.json"
check "a template error exits non-zero" rc_is 1
check "with file:line on stderr" err_is "$T/broken.mustache:2: unclosed section 'open'"
check "and nothing on stdout" [ ! -s "$T/out" ]

printf 'a\n{{>missing}}\n' >"$T/nopart.mustache"
run "$T/nopart.mustache" "$T/data.json"
check "an unknown partial is an error" rc_is 1
check "with file:line" err_is "$T/nopart.mustache:2: unknown partial 'missing'"

printf '{{>bad}}' >"$T/usebad.mustache"
printf '\n{{/x}}' >"$T/bad.mustache"
run "$T/usebad.mustache" "$T/data.json"
check "an error in a partial names the partial's file" \
	err_is "$T/bad.mustache:2: closing tag {{/x}} without an opening tag"

printf '{\n  "a": 1,\n  "b": [1, 2,\n}\n' >"$T/bad.json"
run "$T/page.mustache" "$T/bad.json"
check "a JSON error exits non-zero" rc_is 1
check "with file:line on stderr" err_is "$T/bad.json:4:"

printf '{"a": 1} x' >"$T/trail.json"
run "$T/page.mustache" "$T/trail.json"
check "text after the JSON value is an error" err_is "$T/trail.json:1: unexpected text"

# A number has no closing mark: the end of the file ends it.
printf '{{.}}' >"$T/dot.mustache"
for value in 85 -1.5 '"x"' '85 '; do
	printf '%s' "$value" >"$T/top.json"
	run "$T/dot.mustache" "$T/top.json"
	check "a bare top value renders: '$value'" [ "$(cat "$T/out")" = "$(echo $value | tr -d '"')" ]
done
printf '{"a": [1, 2' >"$T/cut.json"
run "$T/dot.mustache" "$T/cut.json"
check "a value cut short is an error" err_is "$T/cut.json:1: unexpected end of file"
printf '85 86' >"$T/two.json"
run "$T/dot.mustache" "$T/two.json"
check "a second number after the first is an error" err_is "$T/two.json:1: unexpected text"
printf '8' >"$T/one.json"
printf '\000' >>"$T/one.json"
printf '5' >>"$T/one.json"
run "$T/dot.mustache" "$T/one.json"
check "a NUL inside the file is an error" rc_is 1

run "$T/page.mustache" "$T/nonexistent.json"
check "a missing data file is an error" rc_is 1

run "$T/page.mustache"
check "a usage error exits 2" rc_is 2

echo "1..$n"
[ "$failed" -eq 0 ]
