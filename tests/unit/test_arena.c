/* test_arena.c - the request arena and the response buffer. */
#include <stdint.h>
#include <string.h>

#include "arena.h"
#include "buf.h"
#include "tap.h"

static void test_arena(void)
{
	struct arena *a = arena_new(1024);
	size_t before;
	char *big;
	int misaligned = 0;

	/* 1 to 100 bytes: odd sizes, and past the first chunk. */
	for (int i = 0; i < 100; i++)
		misaligned += ((uintptr_t)arena_alloc(a, (size_t)i + 1) & 15) != 0;
	ok(misaligned == 0, "small allocations are 16-byte aligned (%d were not)", misaligned);
	is_str(arena_strndup(a, "hello world", 5), "hello", "strndup copies n bytes and ends them");
	is_str(arena_printf(a, "%d-%s", 42, "x"), "42-x", "printf formats into the arena");
	big = arena_alloc(a, 100000);
	memset(big, 'x', 100000);
	ok(arena_footprint(a) > 100000, "a large allocation grows the arena");
	arena_reset(a);
	before = arena_footprint(a);
	ok(before < 4096, "reset gives the extra chunks back (%zu bytes left)", before);
	for (int round = 0; round < 1000; round++) {
		arena_alloc(a, 50000);
		arena_reset(a);
	}
	ok(arena_footprint(a) == before, "memory stays flat over 1000 reset cycles");
	arena_free(a);
}

static void test_buf(void)
{
	struct buf b = BUF_INIT;

	buf_put_html(&b, "<a href=\"x\">Tom & 'Jerry'</a>", 30);
	is_str(b.data, "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;",
	       "HTML escaping covers & < > \" '");
	buf_reset(&b);
	buf_put_html(&b, "plain text", 10);
	is_str(b.data, "plain text", "text without specials is unchanged");
	buf_reset(&b);
	buf_put_urlarg(&b, "a b&c=d/é", 10);
	is_str(b.data, "a%20b%26c%3Dd%2F%C3%A9", "URL arguments are percent-encoded");
	buf_reset(&b);
	buf_printf(&b, "%s=%d", "n", 7);
	buf_putc(&b, '!');
	is_str(b.data, "n=7!", "printf and putc append");
	buf_free(&b);
	ok(b.data == NULL && b.len == 0, "free leaves an empty buffer");
}

/* Puts `text` through buf_put_paragraphs and compares with `want`. */
static void paragraphs(const char *text, const char *want, const char *what)
{
	struct buf b = BUF_INIT;

	buf_put_paragraphs(&b, text, strlen(text));
	is_str(b.len ? b.data : "", want, what);
	buf_free(&b);
}

static void test_paragraphs(void)
{
	paragraphs("Hello", "<p>Hello</p>\n", "one line is one paragraph");
	paragraphs("Hello Pat,\n\nthe results\nlook fine.\n\nDana",
		   "<p>Hello Pat,</p>\n<p>the results<br>\nlook fine.</p>\n<p>Dana</p>\n",
		   "blank lines part paragraphs, single breaks become <br>");
	paragraphs("a\r\nb\r\n\r\nc\r\n", "<p>a<br>\nb</p>\n<p>c</p>\n",
		   "CRLF breaks count as one");
	paragraphs("\n \n\tx\n\n\n  \n", "<p>\tx</p>\n",
		   "leading, trailing and repeated blank lines go");
	paragraphs("<b>&</b>\n'\"", "<p>&lt;b&gt;&amp;&lt;/b&gt;<br>\n&#39;&quot;</p>\n",
		   "the text is escaped");
	paragraphs("", "", "nothing gives nothing");
	paragraphs(" \n\n", "", "only blank lines give nothing");
}

int main(void)
{
	test_arena();
	test_buf();
	test_paragraphs();
	return tap_done();
}
