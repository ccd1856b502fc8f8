/* test_tpl.c - the mustache engine, rule by rule, and the templates in templates/. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "tpl.h"

static struct arena *A;

/*
 * A relaxed JSON for writing test data tersely: keys may be bare, strings
 * may use single quotes ('it\'s'). Parses from `*s` into the arena.
 * Aborts on malformed data: that is a bug in the test.
 */
static struct tv *data_value(const char **s);

/* Skips whitespace at `*s`. */
static void data_ws(const char **s)
{
	while (**s == ' ' || **s == '\n' || **s == '\t')
		(*s)++;
}

/* A quoted or bare string at `*s`, unescaped into the arena. */
static char *data_string(const char **s)
{
	struct buf b = BUF_INIT;
	char q = **s, *r;

	if (q == '\'' || q == '"') {
		for ((*s)++; **s != q; (*s)++) {
			if (**s == '\0')
				abort();
			if (**s == '\\') {
				(*s)++;
				buf_putc(&b, **s == 'n' ? '\n' : **s == 'r' ? '\r' : **s);
			} else {
				buf_putc(&b, **s);
			}
		}
		(*s)++;
	} else {
		while (strchr(" \t\n:,]}", **s) == NULL)
			buf_putc(&b, *(*s)++);
	}
	r = arena_strndup(A, b.data ? b.data : "", b.len);
	buf_free(&b);
	return r;
}

/* A {key: value, ...} map at `*s`. */
static struct tv *data_map(const char **s)
{
	struct tv *m = tv_map(A);

	for ((*s)++, data_ws(s); **s != '}'; data_ws(s)) {
		char *key = data_string(s);

		data_ws(s);
		if (*(*s)++ != ':')
			abort();
		data_ws(s);
		tv_set(A, m, key, data_value(s));
		data_ws(s);
		if (**s == ',')
			(*s)++;
	}
	(*s)++;
	return m;
}

/* A [value, ...] list at `*s`. */
static struct tv *data_list(const char **s)
{
	struct tv *l = tv_list(A);

	for ((*s)++, data_ws(s); **s != ']'; data_ws(s)) {
		tv_push(A, l, data_value(s));
		data_ws(s);
		if (**s == ',')
			(*s)++;
	}
	(*s)++;
	return l;
}

/* Any value at `*s`: map, list, string, number, true, false, null. */
static struct tv *data_value(const char **s)
{
	char *end, *word;
	double n;

	data_ws(s);
	if (**s == '{')
		return data_map(s);
	if (**s == '[')
		return data_list(s);
	if (**s == '\'' || **s == '"')
		return tv_str(A, data_string(s));
	n = strtod(*s, &end);
	if (end != *s) {
		*s = end;
		return tv_num(A, n);
	}
	word = data_string(s);
	if (strcmp(word, "true") == 0 || strcmp(word, "false") == 0)
		return tv_bool(A, word[0] == 't');
	if (strcmp(word, "null") == 0)
		return tv_null(A);
	abort();
}

/* The value written in `s`. */
static struct tv *data(const char *s)
{
	return data_value(&s);
}

/*
 * Renders `tpl` as template "main" with `json` as data; `partials` is NULL
 * or name, source, name, source, ..., NULL. Returns the output, or "ERROR "
 * and the message, as an arena string.
 */
static const char *render(const char *tpl, const char *json, const char *const *partials)
{
	struct tpl_set *set = tpl_set_new();
	struct buf out = BUF_INIT, err = BUF_INIT;
	const char *r;
	int rc = tpl_add(set, "main", "main.mustache", tpl, strlen(tpl), &err);

	for (size_t i = 0; rc == 0 && partials && partials[i]; i += 2)
		rc = tpl_add(set, partials[i], partials[i], partials[i + 1],
			     strlen(partials[i + 1]), &err);
	if (rc == 0)
		rc = tpl_render(set, "main", data(json), &out, &err);
	if (rc == 0)
		r = arena_strndup(A, out.data ? out.data : "", out.len);
	else
		r = arena_printf(A, "ERROR %s", err.data ? err.data : "");
	buf_free(&out);
	buf_free(&err);
	tpl_set_free(set);
	return r;
}

#define R(tpl, json) render(tpl, json, NULL)
#define RP(tpl, json, ...) render(tpl, json, (const char *const[]){ __VA_ARGS__, NULL })

/* The message of parsing `tpl` as main.mustache, or "" if it parses. */
static const char *parse_err(const char *tpl)
{
	struct tpl_set *set = tpl_set_new();
	struct buf err = BUF_INIT;
	const char *r;

	tpl_add(set, "main", "main.mustache", tpl, strlen(tpl), &err);
	r = arena_strdup(A, err.data ? err.data : "");
	buf_free(&err);
	tpl_set_free(set);
	return r;
}

static void test_model(void)
{
	struct tv *m = tv_map(A), *l = tv_list(A);

	tv_set_str(A, m, "a", "one");
	tv_set_num(A, m, "a", 2);
	ok(m->u.map.n == 1 && tv_get(m, "a")->u.num == 2, "tv_set replaces a key");
	tv_set_bool(A, m, "b", 5);
	ok(tv_get(m, "b")->u.b == 1, "tv_set_bool stores 0 or 1");
	ok(tv_get(m, "zz") == NULL && tv_get(l, "a") == NULL, "tv_get misses give NULL");
	for (int i = 0; i < 100; i++)
		tv_push(A, l, tv_num(A, i));
	ok(l->u.list.n == 100 && l->u.list.items[99]->u.num == 99, "lists grow");
	for (int i = 0; i < 40; i++)
		tv_set(A, m, arena_printf(A, "k%d", i), tv_num(A, i));
	ok(tv_get(m, "k39")->u.num == 39 && tv_get(m, "a")->u.num == 2, "maps grow");
	ok(tv_str(A, NULL)->u.str.len == 0, "tv_str(NULL) is the empty string");
	ok(strcmp(tv_strdup(A, "x")->u.str.s, "x") == 0, "tv_strdup copies");
}

static void test_interpolation(void)
{
	is_str(R("plain text\n", "{}"), "plain text\n", "text without tags is copied");
	is_str(R("Hi {{who}}!", "{who: 'Ann'}"), "Hi Ann!", "a name is replaced by its value");
	is_str(R("{{v}}", "{v: 'a & b < c > d \" e \\' f'}"),
	       "a &amp; b &lt; c &gt; d &quot; e &#39; f", "{{x}} escapes & < > \" '");
	is_str(R("{{{v}}}", "{v: '<b>&'}"), "<b>&", "{{{x}}} does not escape");
	is_str(R("{{&v}}", "{v: '<b>&'}"), "<b>&", "{{&x}} does not escape");
	is_str(R("{{v}}", "{v: '{{w}}', w: 'no'}"), "{{w}}", "values are not parsed again");
	is_str(R("{{n}} {{{n}}} {{&n}}", "{n: 85}"), "85 85 85", "integers print without decimals");
	is_str(R("{{n}}", "{n: 1.21}"), "1.21", "decimals print shortest");
	is_str(R("{{n}}|{{m}}|{{z}}", "{n: -7, m: 0.1, z: -0}"), "-7|0.1|0", "signs, fractions, -0");
	is_str(R("{{n}}", "{n: 0.30000000000000004}"), "0.30000000000000004",
	       "numbers round-trip");
	is_str(R("{{n}}", "{n: 12345678901234}"), "12345678901234", "large integers");
	is_str(R("{{t}} {{f}}", "{t: true, f: false}"), "true false", "booleans print as words");
	is_str(R("[{{v}}]", "{v: null}"), "[]", "null prints nothing");
	is_str(R("[{{nope}}] [{{{nope}}}]", "{}"), "[] []", "a missing name prints nothing");
	is_str(R("[{{l}}{{m}}]", "{l: [1], m: {a: 1}}"), "[]", "lists and maps print nothing");
	is_str(R("{{a.b.c}}", "{a: {b: {c: 'deep'}}}"), "deep", "dotted names walk maps");
	is_str(R("{{{a.b}}} {{&a.b}}", "{a: {b: '<'}}"), "< <", "dotted names unescaped");
	is_str(R("[{{a.b.c}}]", "{a: {}}"), "[]", "a broken dotted chain prints nothing");
	is_str(R("[{{a.b.c}}]", "{a: {b: {}}, c: 'no'}"), "[]",
	       "later parts are not looked up in the stack");
	is_str(R("{{#a}}[{{b.c}}]{{/a}}", "{a: {b: {}}, b: {c: 'no'}}"), "[]",
	       "the first part found ends the stack search");
	is_str(R("{{#a}}{{b.c}}{{/a}}", "{a: {x: 1}, b: {c: 'up'}}"), "up",
	       "the first part is looked up the stack");
	is_str(R("[{{a.b}}]", "{'a.b': 'no'}"), "[]", "a dotted name is never one key");
	is_str(R("{{#l}}{{.}},{{/l}}", "{l: ['<', 2]}"), "&lt;,2,", "{{.}} is the current item");
	is_str(R("{{#l}}{{{.}}}{{&.}}{{/l}}", "{l: ['<']}"), "<<", "{{{.}}} and {{&.}} raw");
	is_str(R("{{.}}", "'top'"), "top", "{{.}} at the top is the data");
	is_str(R("{{#.}}({{v}}){{/.}}", "[{v: 1}, {v: 2}]"), "(1)(2)", "a list as the data");
	is_str(R("| {{v}} |", "{v: 'x'}"), "| x |", "whitespace around a tag stays");
	is_str(R("  {{v}}\n", "{v: 'x'}"), "  x\n", "an interpolation is never standalone");
	is_str(R("|{{ v }}|{{{ v }}}|{{& v }}|", "{v: 'x'}"), "|x|x|x|",
	       "padding inside tags is ignored");
}

static void test_sections(void)
{
	is_str(R("<{{#b}}yes{{/b}}>", "{b: true}"), "<yes>", "true shows the body");
	is_str(R("<{{#b}}yes{{/b}}>", "{b: false}"), "<>", "false hides the body");
	is_str(R("<{{#b}}yes{{/b}}>", "{b: null}"), "<>", "null hides the body");
	is_str(R("<{{#b}}yes{{/b}}>", "{}"), "<>", "a missing name hides the body");
	is_str(R("<{{#b}}yes{{/b}}>", "{b: ''}"), "<>", "an empty string hides the body");
	is_str(R("<{{#b}}yes{{/b}}>", "{b: 0}"), "<>", "zero hides the body");
	is_str(R("<{{#b}}yes{{/b}}>", "{b: []}"), "<>", "an empty list hides the body");
	is_str(R("<{{#b}}yes{{/b}}>", "{b: {}}"), "<yes>", "an empty map shows the body");
	is_str(R("{{#m}}{{k}}{{/m}}", "{m: {k: 'in'}}"), "in", "a map becomes the context");
	is_str(R("{{#m}}{{k}}-{{top}}{{/m}}", "{top: 'T', m: {k: 'in'}}"), "in-T",
	       "outer names stay visible");
	is_str(R("{{#m}}{{k}}{{/m}}", "{k: 'out', m: {k: 'in'}}"), "in", "inner names win");
	is_str(R("{{#s}}[{{.}}]{{/s}}", "{s: 'str'}"), "[str]", "a string becomes the context");
	is_str(R("{{#n}}{{.}}{{/n}}|{{#d}}{{.}}{{/d}}", "{n: 3, d: 1.5}"), "3|1.5",
	       "numbers become the context");
	is_str(R("{{#l}}{{k}};{{/l}}", "{l: [{k: 1}, {k: 2}, {k: 3}]}"), "1;2;3;",
	       "a list repeats the body per item");
	is_str(R("{{#l}}({{#.}}{{.}}{{/.}}){{/l}}", "{l: [[1, 2], [3]]}"), "(12)(3)",
	       "{{#.}} iterates a list of lists");
	is_str(R("{{#a}}{{one}}{{#b}}{{one}}{{two}}{{#c}}{{one}}{{two}}{{three}}{{/c}}{{/b}}{{/a}}",
		 "{a: {one: 1}, b: {two: 2}, c: {three: 3}}"), "112123",
	       "deeply nested contexts see every level");
	is_str(R("{{#b}}1{{/b}}x{{#b}}2{{/b}}", "{b: true}"), "1x2", "a section may be repeated");
	is_str(R("{{#a}}A{{#b}}B{{/b}}{{/a}}", "{a: true, b: false}"), "A",
	       "nested sections are independent");
	is_str(R("{{#a.b.c}}yes{{/a.b.c}}", "{a: {b: {c: true}}}"), "yes", "dotted section names");
	is_str(R("<{{#a.b.c}}yes{{/a.b.c}}>", "{a: {}}"), "<>", "broken dotted section chains");
	is_str(R("{{#a.b}}{{c}}{{/a.b}}", "{a: {b: {c: 'x'}, c: 'y'}}"), "x",
	       "a dotted section pushes only the last value");
	is_str(R(" | {{#b}}\t|\t{{/b}} | \n", "{b: true}"), " | \t|\t | \n",
	       "whitespace around and in inline sections stays");
	is_str(R(" {{#b}}YES{{/b}}\n {{#b}}GOOD{{/b}}\n", "{b: true}"), " YES\n GOOD\n",
	       "indented inline sections keep their indentation");
	is_str(R("| A\n{{#b}}\n| B\n{{/b}}\n| C\n", "{b: true}"), "| A\n| B\n| C\n",
	       "standalone section lines are removed");
	is_str(R("| A\n  {{#b}}\n| B\n  {{/b}}\n| C\n", "{b: true}"), "| A\n| B\n| C\n",
	       "indented standalone section lines are removed");
	is_str(R("|\r\n{{#b}}\r\n{{/b}}\r\n|", "{b: true}"), "|\r\n|",
	       "\\r\\n ends a standalone line");
	is_str(R("  {{#b}}\n#{{/b}}\n/", "{b: true}"), "#\n/",
	       "standalone on the first line");
	is_str(R("#{{#b}}\n/\n  {{/b}}", "{b: true}"), "#\n/\n",
	       "standalone on the last line without newline");
	is_str(R("{{#l}}\n- {{.}}\n{{/l}}\n", "{l: [1, 2]}"), "- 1\n- 2\n",
	       "a list of standalone lines");
	is_str(R("|{{# b }}={{/ b }}|", "{b: true}"), "|=|", "padding in section tags");
	is_str(R("{{#b}}x{{/b}} {{#b}}\ny\n{{/b}}", "{b: true}"), "x \ny\n",
	       "a section tag after text is not standalone");
	is_str(R("a {{!c}} \n", "{}"), "a  \n", "text makes a line not standalone");
}

static void test_inverted(void)
{
	is_str(R("<{{^b}}no{{/b}}>", "{b: false}"), "<no>", "inverted: false shows");
	is_str(R("<{{^b}}no{{/b}}>", "{b: true}"), "<>", "inverted: true hides");
	is_str(R("<{{^b}}no{{/b}}>", "{b: null}"), "<no>", "inverted: null shows");
	is_str(R("<{{^b}}no{{/b}}>", "{}"), "<no>", "inverted: missing shows");
	is_str(R("<{{^l}}none{{/l}}>", "{l: []}"), "<none>", "inverted: empty list shows");
	is_str(R("<{{^l}}none{{/l}}>", "{l: [1]}"), "<>", "inverted: a list hides");
	is_str(R("<{{^m}}{{k}}{{/m}}>", "{m: {k: 1}}"), "<>", "inverted: a map hides");
	is_str(R("{{^b}}[{{v}}]{{/b}}", "{b: false, v: 'x'}"), "[x]",
	       "inverted: the context does not change");
	is_str(R("{{#b}}1{{/b}}{{^b}}2{{/b}}", "{b: false}"), "2", "inverted after normal");
	is_str(R("<{{^a.b}}no{{/a.b}}>", "{a: {}}"), "<no>", "inverted: broken dotted chain");
	is_str(R("| A\n{{^b}}\n| B\n{{/b}}\n| C\n", "{b: false}"), "| A\n| B\n| C\n",
	       "inverted: standalone lines are removed");
	is_str(R("|\r\n{{^b}}\r\n{{/b}}\r\n|", "{b: false}"), "|\r\n|",
	       "inverted: \\r\\n standalone lines");
	is_str(R("|{{^ b }}={{/ b }}|", "{b: false}"), "|=|", "inverted: padding");
}

static void test_comments(void)
{
	is_str(R("a{{! a note }}b", "{}"), "ab", "comments print nothing");
	is_str(R("a{{!\nmany\nlines\n}}b", "{}"), "ab", "comments may span lines");
	is_str(R("a\n  {{! note }}\nb\n", "{}"), "a\nb\n", "a standalone comment line goes");
	is_str(R("a\n\t{{! note }}\t\nb\n", "{}"), "a\nb\n", "tabs count as indentation");
	is_str(R("|\r\n{{! note }}\r\n|", "{}"), "|\r\n|", "comments: \\r\\n lines");
	is_str(R("  {{! note }}\n!", "{}"), "!", "comments: standalone on the first line");
	is_str(R("!\n  {{! note }}", "{}"), "!\n", "comments: standalone on the last line");
	is_str(R("a\n{{!\nnote\n}}\nb\n", "{}"), "a\nb\n", "a multi-line standalone comment");
	is_str(R("a\n  {{!\n  note\n  }}\nb\n", "{}"), "a\nb\n",
	       "an indented multi-line standalone comment");
	is_str(R("  x {{! note }}\n", "{}"), "  x \n", "an inline comment keeps its line");
	is_str(R("a {{! note }} b", "{}"), "a  b", "whitespace around comments stays");
	is_str(R("a{{! {{b }}c", "{b: 1}"), "ac", "tags inside comments are ignored");
	is_str(R("a{{! x }}}c", "{}"), "a}c", "a comment ends at the first }}");
}

static void test_delimiters(void)
{
	is_str(R("{{=<% %>=}}(<%v%>)", "{v: 'x'}"), "(x)", "set delimiters");
	is_str(R("({{=[ ]=}}[v])", "{v: 'x'}"), "(x)", "delimiters with regex characters");
	is_str(R("{{=| |=}}|#s||v||/s| {{v}}", "{s: true, v: 'x'}"), "x {{v}}",
	       "new delimiters apply to sections; old ones are text");
	is_str(R("{{=| |=}}|^s||v||/s|", "{s: false, v: 'x'}"), "x",
	       "new delimiters apply to inverted sections");
	is_str(R("{{=<% %>=}}<%{v}%> <%&v%>", "{v: '<'}"), "< <", "triple with new delimiters");
	is_str(R("{{=<% %>=}}<%={{ }}=%>{{v}}", "{v: 'x'}"), "x", "delimiters set back");
	is_str(RP("[{{>p}}]{{=| |=}}[|>p|]", "{v: 'x'}", "p", ".{{v}}."), "[.x.][.x.]",
	       "a partial starts with the default delimiters");
	is_str(RP("[{{>p}}]{{v}}", "{v: 'x'}", "p", "{{=| |=}}|v|"), "[x]x",
	       "a partial's delimiters stay in the partial");
	is_str(R("| {{=@ @=}} |", "{}"), "|  |", "delimiters: surrounding whitespace stays");
	is_str(R(" | {{=@ @=}}\n", "{}"), " | \n", "delimiters: inline keeps the line");
	is_str(R("a\n{{=@ @=}}\nb\n", "{}"), "a\nb\n", "delimiters: standalone line goes");
	is_str(R("a\n  {{=@ @=}}\nb\n", "{}"), "a\nb\n", "delimiters: indented standalone");
	is_str(R("|\r\n{{= @ @ =}}\r\n|", "{}"), "|\r\n|", "delimiters: \\r\\n standalone");
	is_str(R("  {{=@ @=}}\n=", "{}"), "=", "delimiters: standalone on the first line");
	is_str(R("=\n  {{=@ @=}}", "{}"), "=\n", "delimiters: standalone on the last line");
	is_str(R("|{{= @   @ =}}|", "{}"), "||", "delimiters: padding");
}

static void test_partials(void)
{
	is_str(RP("<{{>p}}>", "{}", "p", "in"), "<in>", "a partial is included");
	is_str(R("<{{>nope}}>", "{}"), "<>", "an unknown partial renders nothing at run time");
	is_str(RP("<{{>p}}>", "{v: 'x'}", "p", "*{{v}}*"), "<*x*>",
	       "a partial sees the context");
	is_str(RP("{{#m}}{{>p}}{{/m}}", "{v: 'out', m: {v: 'in'}}", "p", "{{v}}"), "in",
	       "a partial sees the context stack of its tag");
	is_str(RP("{{>node}}", "{c: 'X', kids: [{c: 'Y', kids: []}]}", "node",
		  "{{c}}<{{#kids}}{{>node}}{{/kids}}>"), "X<Y<>>", "partials may recurse");
	is_str(RP("{{>a}}", "{v: 1}", "a", "a{{>b}}a", "b", "b{{v}}b"), "ab1ba",
	       "partials may include partials");
	is_str(RP("| {{>p}} |", "{}", "p", "\t|\t"), "| \t|\t |",
	       "partials: surrounding whitespace stays");
	is_str(RP("  {{v}}  {{>p}}\n", "{v: '|'}", "p", ">\n>"), "  |  >\n>\n",
	       "an inline partial is not indented");
	is_str(RP("|\r\n{{>p}}\r\n|", "{}", "p", ">"), "|\r\n>|", "partials: \\r\\n standalone");
	is_str(RP("  {{>p}}\n>", "{}", "p", ">\n>"), "  >\n  >>",
	       "partials: standalone on the first line is indented");
	is_str(RP(">\n  {{>p}}", "{}", "p", ">\n>"), ">\n  >\n  >",
	       "partials: standalone on the last line is indented");
	is_str(RP("\\\n {{>p}}\n/\n", "{v: '<\\n->'}", "p", "|\n{{{v}}}\n|\n"),
	       "\\\n |\n <\n->\n |\n/\n",
	       "each line of a standalone partial is indented, not the values");
	is_str(RP("|{{> p }}|", "{}", "p", "[]"), "|[]|", "partials: padding");
	is_str(RP("  {{>a}}\n", "{}", "a", "A\n  {{>b}}\n", "b", "B1\nB2\n"),
	       "  A\n    B1\n    B2\n", "indentation adds up in nested partials");
	is_str(RP("  {{>a}}\n", "{}", "a", "A\n{{>b}}!\n", "b", "B1\nB2"),
	       "  A\n  B1\nB2!\n", "a partial inline in an indented one is not indented");
	is_str(RP("  {{>p}}\n", "{}", "p", "a\n\nb\n"), "  a\n  \n  b\n",
	       "empty lines of an indented partial are indented too");
	is_str(RP("  {{>p}}\n", "{b: true}", "p", "{{#b}}\nx\n{{/b}}\ny\n"), "  x\n  y\n",
	       "standalone lines in an indented partial go entirely");
	is_str(RP("  {{>p}}\n", "{l: [1, 2]}", "p", "{{#l}}<{{.}}>{{/l}}\n"), "  <1><2>\n",
	       "an indented line starting with a section is indented once");
	is_str(RP("  {{>p}}\n", "{l: [1, 2]}", "p", "{{#l}}\n{{.}}\n{{/l}}!\n"),
	       "  1\n    2\n  !\n", "indentation before a closing tag is inside the section");
}

static void test_dynamic(void)
{
	is_str(RP("\"{{>*d}}\"", "{d: 'p'}", "p", "hi"), "\"hi\"", "{{>*name}} looks the name up");
	is_str(RP("\"{{>*d}}\"", "{d: 'p', '*d': 'q'}", "p", "hi", "q", "no"), "\"hi\"",
	       "the star is not part of the name");
	is_str(RP("\"{{>*d}}\"", "{}", "p", "hi"), "\"\"", "a missing name renders nothing");
	is_str(RP("\"{{>*d}}\"", "{d: 'x'}", "p", "hi"), "\"\"",
	       "a missing template renders nothing");
	is_str(RP("\"{{>*d}}\"", "{d: 3}", "3", "hi"), "\"\"", "only strings name templates");
	is_str(RP("{{>*a.b.c}}", "{v: 'x', a: {b: {c: 'p'}}}", "p", "*{{v}}*"), "*x*",
	       "dynamic dotted names");
	is_str(RP("[{{>*a.b.c}}]", "{a: 'q', q: {b: {c: 'p'}}}", "p", "no"), "[]",
	       "a dotted name resolves whole before use");
	is_str(RP("{{#s1}}{{>*s2.d}}{{/s1}}", "{s1: {v: 1}, s2: {d: 'p', v: 2}}", "p", "{{v}}"),
	       "1", "a dynamic dotted name does not push a context");
	is_str(RP("{{>*t}}", "{t: 'n', c: 'X', kids: [{c: 'Y', kids: []}]}", "n",
		  "{{c}}<{{#kids}}{{>*t}}{{/kids}}>"), "X<Y<>>", "dynamic partials recurse");
	is_str(RP("[{{>**d}}]", "{d: 't', t: 'p'}", "p", "no"), "[]", "no double dereferencing");
	is_str(RP("[{{>*a.*b}}]", "{a: 'x', b: 'y'}", "p", "no"), "[]",
	       "no dereferencing inside a dotted name");
	is_str(RP("  {{>*d}}\n>", "{d: 'p'}", "p", ">\n>"), "  >\n  >>",
	       "dynamic partials: standalone indentation");
	is_str(RP("|{{> * d }}|", "{d: 'p'}", "p", "[]"), "|[]|", "dynamic partials: padding");
	is_str(RP("{{<*d}}{{$b}}new{{/b}}{{/*d}}", "{d: 'p'}", "p", "[{{$b}}old{{/b}}]"),
	       "[new]", "dynamic parents");
}

static void test_inheritance(void)
{
	is_str(R("{{$b}}default{{/b}}\n", "{}"), "default\n", "a block shows its default");
	is_str(R("{{$b}}a {{v}} {{{w}}}{{/b}}", "{v: '<', w: '<'}"), "a &lt; <",
	       "block defaults render tags");
	is_str(R("{{$b}}{{#s}}{{v}}{{/s}}{{^n}}!{{/n}}{{/b}}", "{s: {v: 1}}"), "1!",
	       "block defaults render sections");
	is_str(RP("{{<p}}{{/p}}\n", "{}", "p", "{{$b}}default{{/b}}"), "default",
	       "a parent without overrides shows defaults");
	is_str(RP("{{<p}}{{$b}}new{{/b}}{{/p}}", "{}", "p", "..{{$b}}old{{/b}}.."), "..new..",
	       "an override replaces the block");
	is_str(RP("{{<p}}{{$v}}from page{{/v}}{{/p}}", "{v: 'from data'}", "p", "{{$v}}x{{/v}}"),
	       "from page", "blocks and data names do not mix");
	is_str(RP("{{<p}}{{/p}}", "{v: 'from data'}", "p", "{{$v}}default{{/v}}"), "default",
	       "data does not fill a block");
	is_str(RP("x {{<p}}{{$b}}new{{/b}}{{/p}}", "{}", "p", "{{$b}}old{{/b}}"), "x new",
	       "a parent after text");
	is_str(RP("{{<p}}{{$b}}1{{/b}}{{/p}} {{<p}}{{$b}}2{{/b}}{{/p}}", "{}", "p",
		  "|{{$b}}.{{/b}}{{$c}}-{{/c}}|"), "|1-| |2-|", "one parent used twice");
	is_str(RP("{{<p}}{{$b}}\nnew\n\nlines\n{{/b}}{{/p}}", "{}", "p", "{{$b}}old{{/b}}"),
	       "new\n\nlines\n", "an override with newlines");
	is_str(RP("{{<p}}{{$b}}new{{/b}}{{/p}}", "{}", "p", "p:\n  {{$b}}old{{/b}}\n"),
	       "p:\n  new\n", "an inline block keeps the parent's indentation");
	is_str(RP("{{<p}}{{$c}}C{{/c}}{{/p}}", "{}", "p", "{{$b}}B{{/b}}, {{$c}}c{{/c}}"),
	       "B, C", "only the overridden block changes");
	is_str(RP("{{>p}}|{{<p}}{{/p}}", "{}", "p", "{{$b}}def{{/b}}"), "def|def",
	       "a parent without overrides is a partial");
	is_str(RP("{{<p}}{{$a}}A{{/a}}{{/p}}", "{}",
		  "p", "{{$a}}pa{{/a}} {{$b}}{{<q}}{{/q}}{{/b}}",
		  "q", "{{$a}}qa{{/a}} {{<p}}{{$b}}stop{{/b}}{{/p}}"),
	       "A A A stop", "parents may include each other");
	is_str(RP("{{<p}}{{$a}}1{{/a}}{{/p}}", "{}", "p", "{{<q}}{{$a}}2{{/a}}{{/q}}",
		  "q", "{{<r}}{{$a}}3{{/a}}{{/r}}", "r", "{{$a}}4{{/a}}"),
	       "1", "the outermost override wins");
	is_str(RP("{{<p}}{{/p}}", "{}", "p", "{{<q}}{{$a}}2{{/a}}{{/q}}",
		  "q", "{{<r}}{{$a}}3{{/a}}{{/r}}", "r", "{{$a}}4{{/a}}"),
	       "2", "the outermost override there is wins");
	is_str(RP("{{<p}} text {{$b}}new{{/b}} more {{v}} {{/p}}", "{v: 1}", "p",
		  "{{$b}}old{{/b}}"), "new", "other content inside a parent is ignored");
	is_str(RP("{{<p}} just text {{/p}}", "{}", "p", "{{$b}}old{{/b}}"), "old",
	       "a parent with only text inside");
	is_str(RP("{{<p}}{{$b}}I see {{f}}.{{/b}}{{/p}}", "{f: 'top', m: {f: 'inner'}}", "p",
		  "{{#m}}{{$b}}-{{/b}}{{/m}}"), "I see inner.",
	       "an override sees the context where the block is");
	is_str(RP("Hi,\n  {{<p}}{{/p}}\n", "{}", "p", "one\ntwo\n"), "Hi,\n  one\n  two\n",
	       "a standalone parent indents its lines");
	is_str(RP("{{<p}}{{$b}}\none\ntwo{{/b}}\n{{/p}}\n", "{}", "p", "Hi,\n  {{$b}}{{/b}}\n"),
	       "Hi,\n  one\n  two\n", "a block alone on its line indents the override");
	is_str(RP("{{<p}}{{$b}}\n    one\n    two\n{{/b}}{{/p}}\n", "{}", "p",
		  "Hi,\n  {{$b}}\n  {{/b}}\n"), "Hi,\n  one\n  two\n",
	       "an override loses its own indentation, gets the block's");
	is_str(RP("{{<p}}{{$b}}\none\ntwo\n{{/b}}{{/p}}\n", "{}", "p",
		  "Hi,\n{{$b}}\n  default\n{{/b}}\n"), "Hi,\n  one\n  two\n",
	       "a standalone block is as indented as its default content");
	is_str(RP("{{<p}}\n{{$b}}\n{{#l}}\n  - {{.}}\n{{/l}}\n{{/b}}\n{{/p}}\n", "{l: [1, 2]}",
		  "p", "<ul>\n  {{$b}}\n  {{/b}}\n</ul>\n"), "<ul>\n    - 1\n    - 2\n</ul>\n",
	       "an override's first line sets the indentation it loses");
	is_str(RP("{{<p}}{{$n}}\nthree\n{{/n}}{{/p}}\n", "{}",
		  "p", "{{<q}}{{$b}}\n  one\n  {{$n}}\n    two\n  {{/n}}\n{{/b}}{{/q}}\n",
		  "q", "{{$b}}default{{/b}}"), "one\n  three\n",
	       "a block inside an override is indented relative to it");
	is_str(RP("{{<p}}{{$b}}A{{$c}}inner{{/c}}{{/b}}{{/p}}", "{}", "p", "[{{$b}}{{/b}}]"),
	       "[Ainner]", "a block inside an override shows its default");
	is_str(RP("{{<p}}{{$b}}{{>q}}{{/b}}{{/p}}", "{v: 1}", "p", "[{{$b}}{{/b}}]",
		  "q", "q{{v}}"), "[q1]", "an override may include a partial");
	is_str(RP("{{<p}}{{$t}}T{{/t}}{{/p}}", "{}", "p", "{{>q}}", "q", "<{{$t}}-{{/t}}>"),
	       "<T>", "a partial of a parent sees the overrides");
	is_str(R("{{<nope}}{{$b}}x{{/b}}{{/nope}}|", "{}"), "|",
	       "an unknown parent renders nothing at run time");
}

/* The layout of carebox pages, in miniature. */
static void test_layout(void)
{
	const char *layout = "<html>\n<title>{{$title}}carebox{{/title}}</title>\n<main>\n"
			     "  {{$content}}\n  {{/content}}\n</main>\n</html>\n";
	const char *page = "{{<layout}}\n{{$title}}Inbox{{/title}}\n{{$content}}\n"
			   "<h1>{{who}}</h1>\n{{#rows}}\n<p>{{.}}</p>\n{{/rows}}\n"
			   "{{/content}}\n{{/layout}}\n";

	is_str(RP(page, "{who: '<me>', rows: ['a', 'b']}", "layout", layout),
	       "<html>\n<title>Inbox</title>\n<main>\n  <h1>&lt;me&gt;</h1>\n"
	       "  <p>a</p>\n  <p>b</p>\n</main>\n</html>\n", "a page in a layout");
	is_str(RP("{{<layout}}{{/layout}}", "{}", "layout", layout),
	       "<html>\n<title>carebox</title>\n<main>\n</main>\n</html>\n",
	       "a layout with its defaults");
}

static void test_errors(void)
{
	is_str(parse_err("a\n{{#s}}\nb\n"), "main.mustache:2: unclosed section 's'",
	       "error: unclosed section");
	is_str(parse_err("{{<p}}\n{{$b}}x\n{{/p}}"),
	       "main.mustache:3: closing tag {{/p}} does not match 'b' opened at line 2",
	       "error: mismatched closing tag");
	is_str(parse_err("a\n\n{{/s}}"), "main.mustache:3: closing tag {{/s}} without an opening tag",
	       "error: closing tag alone");
	is_str(parse_err("a\nb {{v\n"), "main.mustache:2: unclosed tag (no }})",
	       "error: unclosed tag");
	is_str(parse_err("{{{v}}"), "main.mustache:1: unclosed tag (no }}})",
	       "error: unclosed triple mustache");
	is_str(parse_err("\n{{=<%=}}"), "main.mustache:2: bad delimiter: want {{=OPEN CLOSE=}}",
	       "error: one delimiter");
	is_str(parse_err("{{=a= b=}}"), "main.mustache:1: bad delimiter: want {{=OPEN CLOSE=}}",
	       "error: '=' in a delimiter");
	is_str(parse_err("{{=<% %>=}}\n<%#s%>\n{{/s}}"), "main.mustache:2: unclosed section 's'",
	       "error: old delimiters after a change are text");
	is_str(parse_err("x{{ }}"), "main.mustache:1: empty tag name", "error: empty tag");
	is_str(parse_err("{{a b}}"), "main.mustache:1: bad tag name 'a b'",
	       "error: space in a name");
	is_str(parse_err("{{a..b}}"), "main.mustache:1: bad name 'a..b'", "error: empty name part");
	is_str(parse_err("{{!\n\n}}\n{{#a}}{{/b}}"),
	       "main.mustache:4: closing tag {{/b}} does not match 'a' opened at line 4",
	       "error: lines count inside comments");
	is_str(parse_err("{{<*d}}{{/d}}"),
	       "main.mustache:1: closing tag {{/d}} does not match 'd' opened at line 1",
	       "error: a dynamic parent closes with {{/*d}}");
	{
		struct buf deep = BUF_INIT;

		for (int i = 0; i < 70; i++)
			buf_puts(&deep, "{{#a}}");
		is_str(parse_err(deep.data), "main.mustache:1: sections nested too deeply (over 64)",
		       "error: nesting limit");
		buf_free(&deep);
	}
	{
		/* 10 partials, each 60 sections deep, end in an empty one. */
		const char *v[24];
		struct buf src[10];

		for (int k = 0; k < 10; k++) {
			src[k] = (struct buf)BUF_INIT;
			for (int i = 0; i < 60; i++)
				buf_puts(&src[k], "{{^z}}");
			buf_printf(&src[k], "{{>p%d}}", k + 1);
			for (int i = 0; i < 60; i++)
				buf_puts(&src[k], "{{/z}}");
			v[2 * k] = arena_printf(A, "p%d", k);
			v[2 * k + 1] = src[k].data;
		}
		v[20] = "p10";
		v[21] = "";
		v[22] = NULL;
		ok(strstr(render("{{>p0}}", "{}", v), "sections nested too deeply") != NULL,
		   "error: nesting limit while rendering");
		for (int k = 0; k < 10; k++)
			buf_free(&src[k]);
	}
	is_str(RP("{{>p}}", "{}", "p", "{{>p}}"), "ERROR p:1: partials nested too deeply (a loop?)",
	       "error: endless partial recursion");
	is_str(RP("{{>a}}", "{}", "a", "{{>b}}{{>b}}{{>b}}{{>b}}{{>b}}{{>b}}{{>b}}{{>b}}",
		  "b", "{{>c}}{{>c}}{{>c}}{{>c}}{{>c}}{{>c}}{{>c}}{{>c}}",
		  "c", "{{>d}}{{>d}}{{>d}}{{>d}}{{>d}}{{>d}}{{>d}}{{>d}}",
		  "d", "{{>e}}{{>e}}{{>e}}{{>e}}{{>e}}{{>e}}{{>e}}{{>e}}",
		  "e", "{{>f}}{{>f}}{{>f}}{{>f}}{{>f}}{{>f}}{{>f}}{{>f}}",
		  "f", "{{>g}}{{>g}}{{>g}}{{>g}}{{>g}}{{>g}}{{>g}}{{>g}}",
		  "g", "{{>h}}{{>h}}{{>h}}{{>h}}{{>h}}{{>h}}{{>h}}{{>h}}", "h", "x"),
	       "ERROR a:1: template too expensive to render (a loop?)",
	       "error: exponential partials stop");
}

/* Writes `src` to DIR/NAME.mustache. */
static void write_tpl(const char *dir, const char *name, const char *src)
{
	char *path = arena_printf(A, "%s/%s.mustache", dir, name);
	FILE *f = fopen(path, "w");

	fputs(src, f);
	fclose(f);
}

static void test_load_dir(void)
{
	char tmpl[] = "/tmp/test_tpl.XXXXXX";
	char *dir = mkdtemp(tmpl);
	struct buf err = BUF_INIT, out = BUF_INIT;
	struct tpl_set *set;

	write_tpl(dir, "page", "{{<frame}}{{$x}}[{{>row}}]{{/x}}{{/frame}}");
	write_tpl(dir, "frame", "<{{$x}}{{/x}}>");
	write_tpl(dir, "row", "row {{>*dyn}}");
	set = tpl_load_dir(dir, &err);
	ok(set != NULL && tpl_has(set, "page") && tpl_has(set, "row"), "tpl_load_dir loads a folder");
	ok(tpl_render(set, "page", NULL, &out, &err) == 0, "and renders with no data");
	is_str(out.data, "<[row ]>", "output of a folder's page");
	buf_reset(&out);
	buf_puts(&out, "keep:");
	tpl_render(set, "row", NULL, &out, &err);
	is_str(out.data, "keep:row ", "render appends to the buffer");
	ok(tpl_render(set, "nope", NULL, &out, &err) == -1, "an unknown template fails");
	is_str(err.data, "unknown template 'nope'", "with a message");
	tpl_set_free(set);
	buf_reset(&err);

	write_tpl(dir, "row", "row\n{{>cell}}");
	ok(tpl_load_dir(dir, &err) == NULL, "tpl_load_dir fails on an unknown partial");
	is_str(err.data, arena_printf(A, "%s/row.mustache:2: unknown partial 'cell'", dir),
	       "with file:line");
	buf_reset(&err);
	write_tpl(dir, "row", "row");
	write_tpl(dir, "frame", "\n\n{{<base}}{{/base}}");
	ok(tpl_load_dir(dir, &err) == NULL, "tpl_load_dir fails on an unknown parent");
	is_str(err.data, arena_printf(A, "%s/frame.mustache:3: unknown parent 'base'", dir),
	       "with file:line");
	buf_reset(&err);
	write_tpl(dir, "frame", "{{#x}}");
	ok(tpl_load_dir(dir, &err) == NULL, "tpl_load_dir fails on a bad template");
	is_str(err.data, arena_printf(A, "%s/frame.mustache:1: unclosed section 'x'", dir),
	       "with file:line");
	buf_reset(&err);
	ok(tpl_load_dir("/nonexistent/dir", &err) == NULL && err.len > 0,
	   "tpl_load_dir fails on a missing folder");
	for (const char *const *n = (const char *const[]){ "page", "frame", "row", NULL }; *n; n++)
		remove(arena_printf(A, "%s/%s.mustache", dir, *n));
	rmdir(dir);
	buf_free(&err);
	buf_free(&out);
}

/* Every template of the project parses and names only templates that exist. */
static void test_project_templates(void)
{
	const char *srcdir = getenv("SRCDIR");
	char *dir = arena_printf(A, "%s/templates", srcdir ? srcdir : ".");
	struct buf err = BUF_INIT;
	struct tpl_set *set = tpl_load_dir(dir, &err);

	ok(set != NULL, "every template in %s parses and its partials exist", dir);
	if (set == NULL)
		printf("# %s\n", err.data);
	tpl_set_free(set);
	buf_free(&err);
}

int main(void)
{
	A = arena_new(1 << 16);
	test_model();
	test_interpolation();
	test_sections();
	test_inverted();
	test_comments();
	test_delimiters();
	test_partials();
	test_dynamic();
	test_inheritance();
	test_layout();
	test_errors();
	test_load_dir();
	test_project_templates();
	arena_free(A);
	return tap_done();
}
