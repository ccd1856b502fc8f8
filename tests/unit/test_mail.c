/* test_mail.c - composing a mail (src/mail.c): its headers, their encoding,
 * nothing a value can add to them, CRLF lines, and reading a header back. */
#include <string.h>

#include "arena.h"
#include "buf.h"
#include "mail.h"
#include "tap.h"

static struct arena *A;

/* `m` composed, as an arena string. */
static const char *compose(const struct mail *m)
{
	struct buf b = BUF_INIT;
	const char *s;

	mail_compose(&b, m, "https://portal.example.org");
	buf_putc(&b, '\0');
	s = arena_strdup(A, b.data);
	buf_free(&b);
	return s;
}

int main(void)
{
	struct mail m = { "Clinic \"North\" \\ East", "carebox@example.org", "ann@example.net",
			  "A new message is waiting for you on carebox", "Hello,\nline two\n",
			  "0b6f5a4e-1111-4222-8333-444455556666", "portal.example.org", 1796675100 };
	const char *s, *body;

	A = arena_new(4096);
	s = compose(&m);
	ok(strncmp(s, "From: \"Clinic \\\"North\\\" \\\\ East\" <carebox@example.org>\r\n", 55) == 0,
	   "an ASCII display name is a quoted string, its quotes and backslashes escaped");
	ok(strstr(s, "\r\nTo: <ann@example.net>\r\n") != NULL, "To");
	ok(strstr(s, "\r\nSubject: A new message is waiting for you on carebox\r\n") != NULL,
	   "an ASCII subject as it is");
	ok(strstr(s, "\r\nDate: Mon, 07 Dec 2026 20:25:00 +0000\r\n") != NULL, "the date in UTC, in English");
	ok(strstr(s, "\r\nMessage-ID: <0b6f5a4e-1111-4222-8333-444455556666@portal.example.org>\r\n") != NULL,
	   "Message-ID");
	ok(strstr(s, "\r\nAuto-Submitted: auto-generated\r\nMIME-Version: 1.0\r\n"
		  "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n") != NULL,
	   "Auto-Submitted and the MIME headers, then the blank line");
	body = mail_body(s);
	ok(strncmp(body, "Hello,\r\nline two\r\n\r\n-- \r\n", 25) == 0, "the body in CRLF lines, then the footer");
	ok(strstr(body, "log in and open\r\nhttps://portal.example.org/account\r\n") != NULL,
	   "every mail says where to choose one's notices");
	for (const char *c = s; *c; c++)
		if (*c == '\n' && (c == s || c[-1] != '\r'))
			ok(0, "a bare LF at %ld", (long)(c - s));

	m.from_name = "Ærø Dental — Øst";
	m.subject = "Résumé\r\nBcc: evil@example.com";
	m.to = "ann@example.net>\r\nBcc: <evil@example.com";
	s = compose(&m);
	ok(strstr(s, "From: =?UTF-8?B?") == s, "a display name not in ASCII: RFC 2047");
	is_str(mail_header_get(A, s, "From"), "Ærø Dental — Øst <carebox@example.org>", "decoded back");
	is_str(mail_header_get(A, s, "subject"), "Résumé  Bcc: evil@example.com",
	       "a line break in a value becomes spaces");
	ok(strstr(s, "\nBcc:") == NULL, "no value adds a header");
	ok(mail_header_get(A, s, "Bcc") == NULL, "no Bcc header");
	is_str(mail_header_get(A, s, "To"), "<ann@example.net   Bcc:  evil@example.com>",
	       "an address cannot close its brackets nor break its line");
	ok(mail_header_get(A, s, "X-None") == NULL, "a header the mail lacks");

	/* A long subject: encoded words of at most 75 characters, folded. */
	m.subject = "ÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆ";
	s = compose(&m);
	{
		const char *h = strstr(s, "\r\nSubject: ") + 2, *e = strstr(h, "\r\nDate:");
		int longest = 0, words = 0;

		for (const char *w = strstr(h, "=?UTF-8?B?"); w && w < e; w = strstr(w, "=?UTF-8?B?")) {
			const char *q = strstr(w + 10, "?=");

			if (q - w + 2 > longest)
				longest = (int)(q - w + 2);
			words++;
			w = q;
		}
		ok(words >= 3, "split into several words (%d)", words);
		ok(longest <= 75, "each word at most 75 characters (%d)", longest);
	}
	is_str(mail_header_get(A, s, "Subject"), m.subject, "no character cut in two");
	return tap_done();
}
