/* mail.c - e-mail: queuing each kind of mail with its event, composing every kind, and the job that hands one to carebox-mail (mail.h).
 *
 * Privacy: a mail says only that something waits, and links to
 * CAREBOX_BASE_URL; never a message's subject or text, a sender's name,
 * a medication or a reason. The links a mail carries (reset, verify, join)
 * are made by the job when it sends, so no usable token ever sits in the
 * jobs table: the database holds their hashes only, as for every link. */
#include "mail.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "site.h"

/* The clinic whose name a mail to person `u` goes out under: clinic `c`
 * (the event's), else the person's only clinic, else carebox itself. */
#define MAIL_CLINIC(u, c) \
	"coalesce((SELECT name FROM clinics WHERE id = " c "::uuid)," \
	" (SELECT min(k.name) FROM memberships ms JOIN clinics k ON k.id = ms.clinic_id" \
	" WHERE ms.user_id = " u " AND ms.active HAVING count(*) = 1), 'carebox')"

const struct db_stmt mail_stmts[] = {
	/* Marks the conversation mailed for a person who wants the notice
	 * and has a proven address; a row back means "queue the mail". */
	{ "mail_message_mark",
	  "UPDATE conversation_members c SET mailed = true FROM users u"
	  " WHERE c.user_id = $1 AND c.root_id = $2 AND NOT c.mailed AND u.id = c.user_id"
	  " AND u.active AND u.notice_messages AND u.mail_to IS NOT NULL RETURNING 1" },
	{ NULL, NULL }
};

const struct db_stmt mail_worker_stmts[] = {
	/* $1 person, $2 conversation, $3 clinic: whether the notice is still
	 * wanted (unread, notices on), whether they are active now. */
	{ "mail_message",
	  "SELECT u.mail_to AS to, u.active AND u.notice_messages AND c.unread > 0 AS wanted,"
	  " EXISTS (SELECT 1 FROM sessions s WHERE s.user_id = u.id AND s.expires_at > now()"
	  " AND s.last_seen_at > now() - interval '1 minute' * $4::int) AS busy,"
	  " " MAIL_CLINIC("u.id", "$3") " AS clinic"
	  " FROM users u JOIN conversation_members c ON c.user_id = u.id AND c.root_id = $2"
	  " WHERE u.id = $1" },
	{ "mail_message_unmark",
	  "UPDATE conversation_members SET mailed = false WHERE user_id = $1 AND root_id = $2" },
	/* $1 person, $2 the token: a link to prove their login address, as
	 * it is now, while it is not proven yet. */
	{ "mail_verify",
	  "WITH u AS (SELECT id, email FROM users WHERE id = $1 AND active"
	  " AND lower(email) IS DISTINCT FROM lower(mail_to)),"
	  " l AS (INSERT INTO one_time_links (token_hash, kind, user_id, for_email)"
	  " SELECT sha256(decode($2, 'hex')), 'verify', id, email FROM u RETURNING 1)"
	  " SELECT u.email AS to, " MAIL_CLINIC("u.id", "NULL") " AS clinic FROM u, l" },
	/* $1 person, $2 the token: to their proven address. */
	{ "mail_reset",
	  "WITH u AS (SELECT id, mail_to FROM users WHERE id = $1 AND active AND mail_to IS NOT NULL),"
	  " l AS (INSERT INTO one_time_links (token_hash, kind, user_id)"
	  " SELECT sha256(decode($2, 'hex')), 'reset', id FROM u RETURNING 1)"
	  " SELECT u.mail_to AS to, " MAIL_CLINIC("u.id", "NULL") " AS clinic FROM u, l" },
	/* $1 the handout's join link (its row's id), $2 the token: the
	 * mailed key of that same row (page_join.c's JOIN_KEY_MATCH), to the
	 * address staff typed, while the row is unused and unexpired. */
	{ "mail_join",
	  "UPDATE one_time_links l SET mail_token_hash = sha256(decode($2, 'hex')) FROM clinics c"
	  " WHERE l.id = $1 AND l.kind = 'join' AND l.used_at IS NULL AND l.expires_at > now()"
	  " AND l.for_email <> '' AND c.id = l.clinic_id"
	  " RETURNING l.for_email AS to, c.name AS clinic" },
	{ NULL, NULL }
};

/* Queues kind mail.send with `payload` (taken), unique key `key`, for
 * `clinic_id`. Returns 1 queued, 0 one with the key waits, -1 failure. */
static int mail_enqueue(struct db *db, struct json_object *payload, const char *key,
			const char *clinic_id)
{
	int rc = jobs_enqueue(db, "mail.send", payload, NULL, key, clinic_id, NULL);

	json_object_put(payload);
	return rc;
}

/* A payload {"mail": what} to add to. */
static struct json_object *mail_payload(const char *what)
{
	struct json_object *p = json_object_new_object();

	json_object_object_add(p, "mail", json_object_new_string(what));
	return p;
}

/* Adds the string `value` under `name` to payload `p`; returns `p`. */
static struct json_object *mail_with(struct json_object *p, const char *name, const char *value)
{
	json_object_object_add(p, name, json_object_new_string(value));
	return p;
}

int mail_notice_message(struct db *db, const char *user_id, const char *root_id,
			const char *clinic_id)
{
	const char *p[2] = { user_id, root_id };
	PGresult *res = db_exec(db, "mail_message_mark", 2, p);
	char key[128];
	int due;

	if (res == NULL)
		return -1;
	due = PQntuples(res) == 1;
	PQclear(res);
	if (!due)
		return 0;
	snprintf(key, sizeof(key), "mail:message:%s:%s", user_id, root_id);
	return mail_enqueue(db, mail_with(mail_with(mail_payload("message"), "user", user_id),
					  "root", root_id), key, clinic_id) < 0 ? -1 : 0;
}

int mail_verify(struct db *db, const char *user_id)
{
	char key[80];

	snprintf(key, sizeof(key), "mail:verify:%s", user_id);
	return mail_enqueue(db, mail_with(mail_payload("verify"), "user", user_id), key,
			    NULL) < 0 ? -1 : 0;
}

int mail_reset(struct db *db, const char *user_id, int *queued)
{
	char key[80];
	int rc;

	snprintf(key, sizeof(key), "mail:reset:%s", user_id);
	rc = mail_enqueue(db, mail_with(mail_payload("reset"), "user", user_id), key, NULL);
	if (queued)
		*queued = rc == 1;
	return rc < 0 ? -1 : 0;
}

int mail_join(struct db *db, const char *clinic_id, const char *link_id)
{
	return mail_enqueue(db, mail_with(mail_payload("join"), "link", link_id), NULL,
			    clinic_id) < 0 ? -1 : 0;
}

/* ---- Composing ---- */

/* Appends `n` bytes of `s` in base64. */
static void mail_base64(struct buf *out, const unsigned char *s, size_t n)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)s[i] << 16 | (i + 1 < n ? (unsigned)s[i + 1] << 8 : 0) |
			     (i + 2 < n ? s[i + 2] : 0);

		buf_putc(out, b64[v >> 18 & 63]);
		buf_putc(out, b64[v >> 12 & 63]);
		buf_putc(out, i + 1 < n ? b64[v >> 6 & 63] : '=');
		buf_putc(out, i + 2 < n ? b64[v & 63] : '=');
	}
}

void mail_header_text(struct buf *out, const char *text, int phrase)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t n = strlen(text), start, end;
	int ascii = 1;

	for (size_t i = 0; i < n; i++)
		if (s[i] >= 0x80)
			ascii = 0;
	if (ascii) {
		if (phrase)
			buf_putc(out, '"');
		for (size_t i = 0; i < n; i++) {
			if (phrase && (s[i] == '"' || s[i] == '\\'))
				buf_putc(out, '\\');
			buf_putc(out, s[i] < 0x20 || s[i] == 0x7f ? ' ' : (char)s[i]);
		}
		if (phrase)
			buf_putc(out, '"');
		return;
	}
	/* Encoded words of at most 45 bytes each (60 in base64, 72 with
	 * their markers), cut between UTF-8 characters. */
	for (start = 0; start < n; start = end) {
		unsigned char word[45];

		end = start + 45 < n ? start + 45 : n;
		while (end < n && end > start && (s[end] & 0xC0) == 0x80)
			end--;
		for (size_t i = start; i < end; i++)
			word[i - start] = s[i] < 0x20 || s[i] == 0x7f ? ' ' : s[i];
		buf_puts(out, start ? "\r\n =?UTF-8?B?" : "=?UTF-8?B?");
		mail_base64(out, word, end - start);
		buf_puts(out, "?=");
	}
}

/* Appends the date `t` as RFC 5322 writes it, in UTC (English names, not
 * the locale's). */
static void mail_date(struct buf *out, long long t)
{
	static const char days[][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char months[][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug",
					  "Sep", "Oct", "Nov", "Dec" };
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	buf_printf(out, "%s, %02d %s %d %02d:%02d:%02d +0000", days[tm.tm_wday], tm.tm_mday,
		   months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* Appends `text` with each line ending in CRLF (a lone CR dropped). */
static void mail_lines(struct buf *out, const char *text)
{
	for (; *text; text++) {
		if (*text == '\n')
			buf_puts(out, "\r\n");
		else if (*text != '\r')
			buf_putc(out, *text);
	}
}

/* Appends the address `addr` with control characters and <> as spaces. */
static void mail_addr(struct buf *out, const char *addr)
{
	for (; *addr; addr++)
		buf_putc(out, (unsigned char)*addr < 0x21 || *addr == 0x7f || *addr == '<' ||
			 *addr == '>' ? ' ' : *addr);
}

void mail_compose(struct buf *out, const struct mail *m, const char *base_url)
{
	buf_puts(out, "From: ");
	mail_header_text(out, m->from_name, 1);
	buf_puts(out, " <");
	mail_addr(out, m->from);
	buf_puts(out, ">\r\nTo: <");
	mail_addr(out, m->to);
	buf_puts(out, ">\r\nSubject: ");
	mail_header_text(out, m->subject, 0);
	buf_puts(out, "\r\nDate: ");
	mail_date(out, m->date);
	buf_puts(out, "\r\nMessage-ID: <");
	mail_addr(out, m->id);
	buf_putc(out, '@');
	mail_addr(out, m->host);
	buf_puts(out, ">\r\nAuto-Submitted: auto-generated\r\n"
		 "MIME-Version: 1.0\r\n"
		 "Content-Type: text/plain; charset=utf-8\r\n"
		 "Content-Transfer-Encoding: 8bit\r\n\r\n");
	mail_lines(out, m->body);
	mail_lines(out, "\n-- \n"
		   "carebox sent this mail by itself: replies to it are not read.\n"
		   "To choose which notices carebox sends you by e-mail, log in and open\n");
	buf_puts(out, base_url);
	buf_puts(out, "/account\r\n");
}

/* The value of base64 digit `c`, or -1. */
static int mail_b64_digit(char c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' : c >= 'a' && c <= 'z' ? c - 'a' + 26
	     : c >= '0' && c <= '9' ? c - '0' + 52 : c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* Appends the base64 text of `s` (`n` characters, '=' ending it) decoded. */
static void mail_unbase64(struct buf *out, const char *s, size_t n)
{
	unsigned v = 0;
	int bits = 0, d;

	for (size_t i = 0; i < n && (d = mail_b64_digit(s[i])) >= 0; i++) {
		v = v << 6 | (unsigned)d;
		if ((bits += 6) >= 8) {
			bits -= 8;
			buf_putc(out, (char)(v >> bits & 0xff));
		}
	}
}

const char *mail_header_get(struct arena *a, const char *msg, const char *name)
{
	size_t n = strlen(name);
	const char *line = msg, *end = strstr(msg, "\r\n\r\n");
	struct buf out = BUF_INIT;
	const char *v, *s;

	for (; line && (!end || line < end); line = strstr(line, "\r\n") ? strstr(line, "\r\n") + 2 : NULL)
		if (strncasecmp(line, name, n) == 0 && line[n] == ':')
			break;
	if (line == NULL || (end && line >= end))
		return NULL;
	for (s = line + n + 1; *s == ' '; s++)
		;
	/* Up to the end of the header's last folded line. */
	for (v = s; *v && !(v[0] == '\r' && v[1] == '\n' && v[2] != ' ' && v[2] != '\t'); v++)
		;
	while (s < v) {
		const char *q;
		size_t len;

		if (strncasecmp(s, "=?UTF-8?B?", 10) == 0 && (q = strstr(s + 10, "?=")) && q < v) {
			mail_unbase64(&out, s + 10, (size_t)(q - s - 10));
			for (s = q + 2; s < v && (*s == ' ' || *s == '\r' || *s == '\n' || *s == '\t'); s++)
				;
			if (s < v && strncasecmp(s, "=?UTF-8?B?", 10) != 0)
				buf_putc(&out, ' ');
			continue;
		}
		len = *s == '\r' || *s == '\n' ? 1 : 0;
		buf_putc(&out, len ? ' ' : *s);
		s += *s == '\r' && s[1] == '\n' ? 2 : 1;
	}
	buf_putc(&out, '\0');
	v = arena_strdup(a, out.data);
	buf_free(&out);
	return v;
}

const char *mail_body(const char *msg)
{
	const char *b = strstr(msg, "\r\n\r\n");

	return b ? b + 4 : "";
}

/* ---- Sending (carebox-worker) ---- */

/* Writes TOKEN_HEX (64) lower-case hex digits of fresh randomness and a
 * NUL: a link's token (the worker has no libsodium: getrandom(2)). */
static int mail_token(char out[65])
{
	unsigned char raw[32];

	if (getrandom(raw, sizeof(raw), 0) != sizeof(raw))
		return -1;
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", raw[i]);
	return 0;
}

/* The string `name` of the job's payload, or NULL. */
static const char *mail_arg(const struct job *j, const char *name)
{
	struct json_object *v;

	return json_object_object_get_ex(j->payload, name, &v) &&
	       json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

/* What a builder found: 1 send the mail it filled, 0 nothing to send
 * (done), -1 the database failed (retry). */

/* The notice of a new message: only while it is unread and wanted; a
 * person active now is not mailed, and a later message may mail them. */
static int mail_build_message(struct job *j, struct mail *m)
{
	char minutes[8];
	const char *p[4] = { mail_arg(j, "user"), mail_arg(j, "root"), j->clinic_id, minutes };
	PGresult *res;
	int rc = 0;

	snprintf(minutes, sizeof(minutes), "%d", MAIL_ACTIVE_MINUTES);
	if ((res = db_exec(j->db, "mail_message", 4, p)) == NULL)
		return -1;
	if (PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 1), "t") == 0 &&
	    !PQgetisnull(res, 0, 0)) {
		rc = strcmp(PQgetvalue(res, 0, 2), "t") == 0 ? 2 : 1;
		m->to = arena_strdup(j->arena, PQgetvalue(res, 0, 0));
		m->from_name = arena_strdup(j->arena, PQgetvalue(res, 0, 3));
	}
	PQclear(res);
	if (rc == 2) {	/* looking at carebox now: no mail, and the next may */
		if ((res = db_exec(j->db, "mail_message_unmark", 2, p)) == NULL)
			return -1;
		PQclear(res);
		return 0;
	}
	m->subject = "A new message is waiting for you on carebox";
	m->body = arena_printf(j->arena,
		"Hello,\n\n"
		"a new message is waiting for you on carebox. For your privacy this mail\n"
		"does not say what it is about: log in to read it.\n\n"
		"%s/inbox\n\n"
		"You get no other mail about this conversation until you have read it.\n",
		site.base_url);
	return rc;
}

/* The mails that carry a one-time link, which the job makes when it
 * sends (so no usable token is ever queued): the payload's member that
 * names the row to start from, the statement that stores the token's hash
 * ($1 that row, $2 the token) and returns one row with the address ("to")
 * and the clinic's name ("clinic"), or none when there is nothing to
 * send; the link's path; the subject; the text before the link (it may
 * hold one %s: the clinic's name) and after it. */
static const struct mail_link_kind {
	const char *mail, *arg, *stmt, *path, *subject, *before, *after;
} mail_link_kinds[] = {
	{ "verify", "user", "mail_verify", "/verify?token=", "Confirm your e-mail address for carebox",
	  "this address was given for an account on carebox. To confirm that it\n"
	  "is yours, so that carebox may send its notices here, open this link\n"
	  "within one hour (it works once):",
	  "If you did not ask for this, ignore this mail: nothing changes.\n" },
	{ "reset", "user", "mail_reset", "/reset?token=", "Reset your carebox password",
	  "someone asked to reset the password of the carebox account of this\n"
	  "address. To choose a new password, open this link within one hour (it\n"
	  "works once, and logs the account out everywhere):",
	  "If you did not ask for this, ignore this mail: your password stays as\n"
	  "it is.\n" },
	{ "join", "link", "mail_join", "/join?key=", "Join your clinic on carebox",
	  "your clinic, %s, invites you to carebox, where you can write to\n"
	  "your clinic. Open this link, then log in to your carebox account or\n"
	  "create one; the link works once, within 7 days of your visit:",
	  "If your clinic also gave you a printed handout, use either: once one\n"
	  "of them has been used, the other no longer works.\n" },
	{ NULL, NULL, NULL, NULL, NULL, NULL, NULL }
};

/* Makes a fresh link of kind `k` for the job's payload and fills `m`
 * with the mail that carries it (strings in the job's arena). Returns 1,
 * 0 (nothing to send: the statement found no row) or -1. */
static int mail_build_link(struct job *j, struct mail *m, const struct mail_link_kind *k)
{
	char token[65];
	const char *p[2] = { mail_arg(j, k->arg), token };
	PGresult *res;
	int found;

	if (p[0] == NULL)
		return -2;
	if (mail_token(token) < 0 || (res = db_exec(j->db, k->stmt, 2, p)) == NULL)
		return -1;
	if ((found = PQntuples(res) == 1)) {
		m->to = arena_strdup(j->arena, PQgetvalue(res, 0, PQfnumber(res, "to")));
		m->from_name = arena_strdup(j->arena, PQgetvalue(res, 0, PQfnumber(res, "clinic")));
		m->subject = k->subject;
		/* Each attempt mails a link of its own (a join row keeps the
		 * last one only): another mail, not a copy to drop. */
		m->id = arena_printf(j->arena, "%s.%d", j->id, j->attempt);
		m->body = arena_printf(j->arena, "Hello,\n\n%s\n\n%s%s%s\n\n%s",
				       arena_printf(j->arena, k->before, m->from_name),
				       site.base_url, k->path, token, k->after);
	}
	PQclear(res);
	explicit_bzero(token, sizeof(token));
	return found;
}

/* carebox-mail's path: beside this program. */
static const char *mail_program(void)
{
	static char path[PATH_MAX];
	ssize_t n;
	char *slash;

	if (path[0])
		return path;
	n = readlink("/proc/self/exe", path, sizeof(path) - 20);
	if (n <= 0 || (path[n] = '\0', slash = strrchr(path, '/')) == NULL) {
		path[0] = '\0';
		return "carebox-mail";
	}
	strcpy(slash + 1, "carebox-mail");
	return path;
}

/* Writes all `n` bytes of `data` to `fd` (a pipe: partial writes go on,
 * EINTR retried). Returns 0 or -1. */
static int mail_write(int fd, const char *data, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, data, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		data += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Runs carebox-mail for job `j`: the recipient `to` and the mail `mail` on
 * its standard input, its one line of outcome read from its standard
 * output. carebox-mail gives up on the relay by itself
 * (MAIL_SEND_TIMEOUT_S); should it hang anyway, it is killed after
 * MAIL_RUN_TIMEOUT_MS, within the job's time limit, so the worker records
 * a retry instead of dying at that limit. Sets j->error (its line, or
 * what went wrong in running it: never personal data) and returns its
 * exit status, or -1 when it could not start, was killed or ended by a
 * signal. */
static int mail_run(struct job *j, const char *to, const struct buf *mail)
{
	int in[2], out[2], status = 0, timed_out = 0;
	char why[200];
	size_t got = 0;
	pid_t pid, parent = getpid();
	struct timespec t0, t;

	if (pipe2(in, O_CLOEXEC) < 0)
		return -1;
	if (pipe2(out, O_CLOEXEC) < 0) {
		close(in[0]);
		close(in[1]);
		return -1;
	}
	if ((pid = fork()) == 0) {
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		/* It dies with the worker (and not before the worker's end is
		 * seen: the worker may have died before prctl). */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent ||
		    dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0)
			_exit(127);
		execl(mail_program(), "carebox-mail", j->id, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	/* A mail is a few kB, which the pipe takes whole; carebox-mail reads
	 * it all before it answers. Should it be gone already, the write fails
	 * (SIGPIPE is ignored) and its exit status says why. */
	if (pid > 0 && (mail_write(in[1], to, strlen(to)) < 0 || mail_write(in[1], "\n", 1) < 0 ||
			mail_write(in[1], mail->data, mail->len) < 0))
		log_msg("mail job %s: carebox-mail did not take the mail", j->id);
	close(in[1]);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* Its answer, up to end of file (more than a line is dropped). */
	while (pid > 0) {
		struct pollfd pfd = { out[0], POLLIN, 0 };
		long left;
		ssize_t n;
		char skip[256];

		clock_gettime(CLOCK_MONOTONIC, &t);
		left = MAIL_RUN_TIMEOUT_MS - ((t.tv_sec - t0.tv_sec) * 1000L +
					      (t.tv_nsec - t0.tv_nsec) / 1000000L);
		if (left <= 0) {
			timed_out = 1;
			kill(pid, SIGKILL);
			break;
		}
		if (poll(&pfd, 1, (int)left) < 0 && errno != EINTR)
			break;
		if (pfd.revents == 0)
			continue;
		if (got < sizeof(why) - 1)
			n = read(out[0], why + got, sizeof(why) - 1 - got);
		else
			n = read(out[0], skip, sizeof(skip));
		if (n == 0 || (n < 0 && errno != EINTR))
			break;
		if (n > 0 && got < sizeof(why) - 1)
			got += (size_t)n;
	}
	close(out[0]);
	why[got] = '\0';
	why[strcspn(why, "\n")] = '\0';
	if (pid < 0) {
		j->error = "carebox-mail could not be started";
		return -1;
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (timed_out || !WIFEXITED(status)) {
		j->error = timed_out ? "carebox-mail took too long: stopped" : "carebox-mail ended by a signal";
		return -1;
	}
	status = WEXITSTATUS(status);
	if (status == MAIL_USAGE)
		j->error = "carebox-mail refused how it was run";
	else if (status != MAIL_SENT && status != MAIL_TEMPORARY && status != MAIL_PERMANENT)
		j->error = arena_printf(j->arena, "carebox-mail could not run (exit %d)", status);
	else
		j->error = arena_strdup(j->arena, why[0] ? why : "carebox-mail said nothing");
	return status;
}

enum job_outcome mail_job(struct job *j)
{
	const char *what = mail_arg(j, "mail"), *from = getenv("CAREBOX_MAIL_FROM");
	struct mail m = { 0 };
	struct buf out = BUF_INIT;
	int rc = -2;

	if (site.base_url == NULL) {
		j->error = "CAREBOX_BASE_URL is not set for carebox-worker: mails need it for their links";
		return JOB_RETRY;
	}
	if (what && strcmp(what, "message") == 0)
		rc = mail_build_message(j, &m);
	else
		for (const struct mail_link_kind *k = mail_link_kinds; rc == -2 && k->mail; k++)
			if (what && strcmp(what, k->mail) == 0)
				rc = mail_build_link(j, &m, k);
	if (rc == -2) {
		j->error = "not a kind of mail carebox sends, or its payload lacks a part";
		return JOB_FAILED;
	}
	if (rc < 0) {
		j->error = "the database failed";
		return JOB_RETRY;
	}
	if (rc == 0)
		return JOB_DONE;	/* nothing to send (any more) */
	m.host = strstr(site.base_url, "://") + 3;
	m.host = arena_strndup(j->arena, m.host, strcspn(m.host, ":/"));
	m.from = from && *from ? from : arena_printf(j->arena, "carebox@%s", m.host);
	if (m.id == NULL)	/* a notice: its copies are one mail */
		m.id = j->id;
	m.date = (long long)time(NULL);
	mail_compose(&out, &m, site.base_url);
	rc = mail_run(j, m.to, &out);
	explicit_bzero(out.data, out.len);	/* a link's token */
	buf_free(&out);
	if (rc == MAIL_SENT)
		return JOB_DONE;
	if (rc == MAIL_PERMANENT)
		return JOB_FAILED;
	/* A usage error is a fault of this program's: no retry mends it.
	 * Anything else (not installed, killed, a 4xx, no relay) may pass. */
	return rc == MAIL_USAGE ? JOB_FAILED : JOB_RETRY;
}
