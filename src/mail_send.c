/* mail_send.c - carebox-mail: hands one composed mail to the SMTP relay (libcurl) or writes it as an .eml file; run by carebox-worker per mail. */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CAREBOX_MAIL_SEND
#include "mail.h"

/* How long connecting may take (the whole delivery: MAIL_SEND_TIMEOUT_S,
 * mail.h). */
#define MAIL_CONNECT_TIMEOUT_S 10
#define MAIL_MAX (256 * 1024)	/* a composed mail is a few kB */

/* The mail being sent, as libcurl's read callback takes it. */
struct mail_src {
	const char *data;
	size_t len, off;
};

/* Says why on standard output (the worker stores the line as the job's
 * error: it must hold no address nor anything personal) and returns
 * `code`. */
static int mail_out(int code, const char *why)
{
	printf("%s\n", why);
	fflush(stdout);
	return code;
}

/* libcurl's read callback: the next bytes of the mail. */
static size_t mail_read(char *buf, size_t size, size_t n, void *arg)
{
	struct mail_src *s = arg;
	size_t left = s->len - s->off, want = size * n;

	if (want > left)
		want = left;
	memcpy(buf, s->data + s->off, want);
	s->off += want;
	return want;
}

/* Sends `data` (`len` bytes, CRLF lines) from `from` to `to` through the
 * relay at `url` ("smtp://host:25": STARTTLS when offered; "smtps://user:pw@host:465").
 * Returns MAIL_SENT, MAIL_TEMPORARY (a 4xx answer, no connection, a time
 * out) or MAIL_PERMANENT (a 5xx answer, a bad URL), with why on stdout. */
static int mail_smtp(const char *url, const char *from, const char *to, const char *data,
		     size_t len)
{
	struct mail_src src = { data, len, 0 };
	struct curl_slist *rcpt = curl_slist_append(NULL, to);
	CURL *c = curl_easy_init();
	CURLcode rc;
	long code = 0;
	char why[160];

	if (c == NULL || rcpt == NULL) {
		curl_slist_free_all(rcpt);
		if (c)
			curl_easy_cleanup(c);
		return mail_out(MAIL_TEMPORARY, "libcurl could not start");
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	/* A mistyped CAREBOX_SMTP_URL (file:, http:) fails as a bad setting. */
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_TRY);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, mail_read);
	curl_easy_setopt(c, CURLOPT_READDATA, &src);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)MAIL_SEND_TIMEOUT_S);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)MAIL_CONNECT_TIMEOUT_S);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_slist_free_all(rcpt);
	curl_easy_cleanup(c);
	if (rc == CURLE_OK)
		return mail_out(MAIL_SENT, "sent");
	/* The relay's answer decides; its text is not kept (it may quote the
	 * address). Without one, a bad setting is for good, anything else
	 * (refused, unreachable, timed out, cut off) for later. */
	if (code >= 400) {
		snprintf(why, sizeof(why), "the relay answered %ld: %s", code,
			 code >= 500 ? "refused for good" : "try again later");
		return mail_out(code >= 500 ? MAIL_PERMANENT : MAIL_TEMPORARY, why);
	}
	snprintf(why, sizeof(why), "no answer from the relay: %s", curl_easy_strerror(rc));
	if (rc == CURLE_URL_MALFORMAT || rc == CURLE_UNSUPPORTED_PROTOCOL ||
	    rc == CURLE_LOGIN_DENIED || rc == CURLE_BAD_FUNCTION_ARGUMENT)
		return mail_out(MAIL_PERMANENT, why);
	return mail_out(MAIL_TEMPORARY, why);
}

/* Writes `data` as `dir`/`name`.eml, whole or not at all (a temporary
 * file renamed into place; a second run for the same mail replaces it).
 * Returns MAIL_SENT or MAIL_TEMPORARY, with why on stdout. */
static int mail_file(const char *dir, const char *name, const char *data, size_t len)
{
	char tmp[4096], path[4096];
	int fd;
	ssize_t w = 0;

	if (snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name) >= (int)sizeof(tmp) ||
	    snprintf(path, sizeof(path), "%s/%s.eml", dir, name) >= (int)sizeof(path))
		return mail_out(MAIL_PERMANENT, "CAREBOX_MAIL_DIR is too long");
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0640)) < 0)
		return mail_out(MAIL_TEMPORARY, "cannot write to CAREBOX_MAIL_DIR");
	for (size_t off = 0; off < len && w >= 0; off += (size_t)w)
		w = write(fd, data + off, len - off);
	if (w < 0 || fsync(fd) < 0 || close(fd) < 0 || rename(tmp, path) < 0) {
		unlink(tmp);
		return mail_out(MAIL_TEMPORARY, "cannot write to CAREBOX_MAIL_DIR");
	}
	return mail_out(MAIL_SENT, "written to CAREBOX_MAIL_DIR");
}

/* 1 if `addr` can stand in an SMTP command as it is: not empty, an '@',
 * no space, control character or angle bracket (nothing that could end
 * the command or add another), else 0. */
static int mail_addr_ok(const char *addr)
{
	if (*addr == '\0' || strchr(addr, '@') == NULL)
		return 0;
	for (; *addr; addr++)
		if ((unsigned char)*addr <= ' ' || *addr == 0x7f || *addr == '<' || *addr == '>')
			return 0;
	return 1;
}

/* carebox-mail ID: reads the envelope's recipient (one line), then the
 * composed mail, from standard input; sends it as CAREBOX_MAIL_FROM
 * through CAREBOX_SMTP_URL, or else writes it to CAREBOX_MAIL_DIR/ID.eml.
 * Exits MAIL_SENT, MAIL_TEMPORARY or MAIL_PERMANENT, with one line on
 * standard output that says why. */
int main(int argc, char **argv)
{
	const char *url = getenv("CAREBOX_SMTP_URL"), *dir = getenv("CAREBOX_MAIL_DIR");
	const char *from = getenv("CAREBOX_MAIL_FROM");
	static char data[MAIL_MAX + 1];
	size_t len = 0;
	ssize_t n = 1;
	char *to, *body;
	int rc;

	if (argc != 2 || strspn(argv[1], "0123456789abcdef-") != strlen(argv[1]) || !*argv[1]) {
		fputs("usage: carebox-mail ID <mail (the recipient on the first line)\n", stderr);
		return MAIL_USAGE;
	}
	while (len < MAIL_MAX && ((n = read(0, data + len, MAIL_MAX - len)) > 0 ||
				  (n < 0 && errno == EINTR)))
		len += n > 0 ? (size_t)n : 0;
	data[len] = '\0';
	if (n < 0 || len == MAIL_MAX || (body = strchr(data, '\n')) == NULL)
		return mail_out(MAIL_PERMANENT, "the mail handed over was cut or too long");
	*body++ = '\0';
	to = data;
	len -= (size_t)(body - data);
	if (!mail_addr_ok(to))	/* never quoted: it is personal */
		return mail_out(MAIL_PERMANENT, "the recipient's address cannot be used");
	if (url && *url) {
		if (from == NULL || !mail_addr_ok(from))
			return mail_out(MAIL_PERMANENT, "CAREBOX_MAIL_FROM is not set or not an address");
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return mail_out(MAIL_TEMPORARY, "libcurl could not start");
		rc = mail_smtp(url, from, to, body, len);
		curl_global_cleanup();
		return rc;
	}
	if (dir && *dir)
		return mail_file(dir, argv[1], body, len);
	return mail_out(MAIL_PERMANENT, "neither CAREBOX_SMTP_URL nor CAREBOX_MAIL_DIR is set");
}
