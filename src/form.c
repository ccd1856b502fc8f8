/* form.c - declared forms: reading, checking and converting a request's
 * fields against a page's declaration; every message a user sees about a
 * mistake in a field is worded here. */
#include "form.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

/* The kinds of mistake, each worded once (form_message). */
enum mistake {
	M_MISSING, M_TOO_SHORT, M_TOO_LONG, M_ONE_LINE, M_CONTROLS, M_NUMBER,
	M_RANGE, M_DECIMAL, M_MONEY, M_DATE, M_FUTURE, M_TIME, M_DATETIME, M_NO_SUCH_TIME,
	M_PICK, M_TOO_MANY_FILES, M_FILE_EMPTY, M_FILE_TYPE, M_FILE_TOO_LARGE,
};

/* `n` with a comma between thousands: 20000 -> "20,000" (arena). */
static const char *with_commas(struct arena *a, long long n)
{
	char digits[32], out[48];
	int len = snprintf(digits, sizeof(digits), "%lld", n < 0 ? -n : n), o = 0;

	if (n < 0)
		out[o++] = '-';
	for (int i = 0; i < len; i++) {
		if (i && (len - i) % 3 == 0)
			out[o++] = ',';
		out[o++] = digits[i];
	}
	out[o] = '\0';
	return arena_strdup(a, out);
}

/* `label` with its first letter in capitals, for the start of a sentence. */
static const char *capital(struct arena *a, const char *label)
{
	char *s = arena_strdup(a, label);

	s[0] = (char)toupper((unsigned char)s[0]);
	return s;
}

/* The number of decimals field `f` keeps. */
static int field_scale(const struct field *f)
{
	return f->type == FT_MONEY ? 2 : f->type == FT_DECIMAL ? f->scale : 0;
}

/* `n` units of 10^-scale as a decimal number: 1250, 2 -> "12.50" (arena). */
static const char *scaled_text(struct arena *a, long long n, int scale)
{
	long long unit = 1;

	for (int i = 0; i < scale; i++)
		unit *= 10;
	if (scale == 0)
		return arena_printf(a, "%lld", n);
	return arena_printf(a, "%s%lld.%0*lld", n < 0 ? "-" : "", llabs(n) / unit, scale,
			    llabs(n) % unit);
}

/* The sentence for mistake `m` in field `f`; `file` names the file concerned. */
static const char *form_message(struct arena *a, const struct field *f, enum mistake m,
				const char *file)
{
	const char *L = capital(a, f->label), *l = f->label;

	if (file == NULL)
		file = "A file";

	switch (m) {
	case M_MISSING:
		if (f->type == FT_CHOICE || f->type == FT_UUID)
			return arena_printf(a, "Choose %s.", l);
		if (f->type == FT_FILE)
			return arena_printf(a, "Attach %s.", l);
		if (f->type == FT_BOOL)
			return arena_printf(a, "Tick %s.", l);
		return arena_printf(a, "%s %s.", f->flags & FIELD_MULTILINE ? "Write" : "Enter", l);
	case M_TOO_SHORT:
		return arena_printf(a, "%s needs at least %s characters.", L, with_commas(a, f->min));
	case M_TOO_LONG:
		return arena_printf(a, "%s may have at most %s characters.", L, with_commas(a, f->max));
	case M_ONE_LINE:
		return arena_printf(a, "%s is one line of text.", L);
	case M_CONTROLS:
		return arena_printf(a, "%s contains characters that cannot be shown.", L);
	case M_NUMBER:
		return arena_printf(a, "%s is a whole number, like 12.", L);
	case M_RANGE:
		return arena_printf(a, "%s is between %s and %s.", L,
				    scaled_text(a, f->min, field_scale(f)),
				    scaled_text(a, f->max, field_scale(f)));
	case M_DECIMAL:
		return arena_printf(a, "%s is a number with at most %d decimals, like 2.5.", L,
				    f->scale);
	case M_MONEY:
		return arena_printf(a, "%s is an amount like 12.50.", L);
	case M_DATE:
		return arena_printf(a, "%s is a date like 2026-03-31 (year, month, day).", L);
	case M_FUTURE:
		return arena_printf(a, "%s cannot be in the future.", L);
	case M_TIME:
		return arena_printf(a, "%s is a time like 14:30.", L);
	case M_DATETIME:
		return arena_printf(a, "%s is a date and time like 2026-03-31 14:30.", L);
	case M_NO_SUCH_TIME:
		return arena_printf(a, "%s does not exist: the clocks go forward at that hour. "
				    "Choose another time.", L);
	case M_PICK:
		return arena_printf(a, "Choose %s from the list.", l);
	case M_TOO_MANY_FILES:
		return arena_printf(a, "Attach at most %lld files.", f->max);
	case M_FILE_EMPTY:
		return arena_printf(a, "%s is empty.", file);
	case M_FILE_TYPE:
		return arena_printf(a, "%s is not a PDF, PNG, JPEG or plain text file.", file);
	case M_FILE_TOO_LARGE:
		return arena_printf(a, "%s is larger than 10 MB: each file may be at most 10 MB.", file);
	}
	return "This value is not valid.";
}

const char *form_email_problem(const char *email)
{
	const char *at, *dot;
	size_t n = email ? strlen(email) : 0;

	if (n == 0)
		return "Enter your e-mail address.";
	if (n > 254)
		return "That e-mail address is too long.";
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)email[i] <= ' ' || email[i] == 0x7f)
			return "An e-mail address has no spaces.";
	at = strchr(email, '@');
	if (at == NULL || at == email || strchr(at + 1, '@') ||
	    (dot = strchr(at + 1, '.')) == NULL || dot == at + 1 || dot[1] == '\0')
		return "Enter an e-mail address like name@example.org.";
	return NULL;
}

/* `s` without white space at either end (arena). */
static const char *trimmed(struct arena *a, const char *s)
{
	size_t n;

	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
		n--;
	return arena_strndup(a, s, n);
}

/* `s` with every CRLF made LF (browsers send CRLF; a limit counts a line
 * break as one character). In place. */
static char *lf_only(char *s)
{
	char *o = s;

	for (const char *i = s; *i; i++)
		if (!(i[0] == '\r' && i[1] == '\n'))
			*o++ = *i;
	*o = '\0';
	return s;
}

/* 1 if `s` has a control character other than those in `allowed`. */
static int has_controls(const char *s, const char *allowed)
{
	for (; *s; s++)
		if (((unsigned char)*s < 0x20 && !strchr(allowed, *s)) || *s == 0x7f)
			return 1;
	return 0;
}

/* Reads a number with at most `scale` decimals ("12", "-3.5", "0.25")
 * into *out as an integer in units of 10^-scale. Returns 0 if `s` is
 * such a number (and fits), else -1. */
static int parse_scaled(const char *s, int scale, long long *out)
{
	long long n = 0;
	int neg = *s == '-', decimals = -1, digits = 0;

	s += neg;
	for (; *s; s++) {
		if (*s == '.' && decimals < 0) {
			decimals = 0;
			continue;
		}
		if (*s < '0' || *s > '9' || ++digits > 15)
			return -1;
		if (decimals >= 0 && ++decimals > scale)
			return -1;
		n = n * 10 + (*s - '0');
	}
	if (digits == 0 || decimals == 0)
		return -1;
	for (int d = decimals < 0 ? 0 : decimals; d < scale; d++)
		n *= 10;
	*out = neg ? -n : n;
	return 0;
}

/* Reads exactly `n` digits at *s into *v and moves past them. */
static int digits(const char **s, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++, (*s)++) {
		if (**s < '0' || **s > '9')
			return -1;
		*v = *v * 10 + (**s - '0');
	}
	return 0;
}

static int days_in_month(int y, int m)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : days[m - 1];
}

/* Parses "YYYY-MM-DD" at *s (moving past it) into tm. 0 or -1. */
static int parse_date(const char **s, struct tm *tm)
{
	int y, m, d;

	if (digits(s, 4, &y) || *(*s)++ != '-' || digits(s, 2, &m) || *(*s)++ != '-' ||
	    digits(s, 2, &d) || y < 1900 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
		return -1;
	tm->tm_year = y - 1900;
	tm->tm_mon = m - 1;
	tm->tm_mday = d;
	return 0;
}

/* Today's date (UTC) as YYYY-MM-DD, in the arena. */
static const char *today(struct arena *a)
{
	time_t now = time(NULL);
	struct tm tm;
	char *out = arena_alloc(a, 11);

	gmtime_r(&now, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
	return out;
}

/* Parses "HH:MM" at *s (moving past it) into tm. 0 or -1. */
static int parse_time(const char **s, struct tm *tm)
{
	int h, m;

	if (digits(s, 2, &h) || *(*s)++ != ':' || digits(s, 2, &m) || h > 23 || m > 59)
		return -1;
	tm->tm_hour = h;
	tm->tm_min = m;
	return 0;
}

/* 1 if `zone` names a zone of the system's time zone database. */
static int zone_known(const char *zone)
{
	char path[300];

	if (strlen(zone) > 100 || strstr(zone, "..") || zone[0] == '/' ||
	    strspn(zone, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/_+-") !=
	    strlen(zone))
		return 0;
	snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", zone);
	return access(path, R_OK) == 0;
}

/* Makes `zone` (NULL: restores `saved`) the process's zone for mktime. */
static void use_zone(const char *zone, const char *saved)
{
	if (zone)
		setenv("TZ", zone, 1);
	else if (saved)
		setenv("TZ", saved, 1);
	else
		unsetenv("TZ");
	tzset();
}

const char *form_local_to_utc(struct arena *a, const char *local, const char *zone,
			      const char **why)
{
	struct tm want = { 0 }, got, utc;
	const char *s = local, *old = getenv("TZ");
	char *saved = old ? arena_strdup(a, old) : NULL;
	time_t best = 0;
	int found = 0;

	if (parse_date(&s, &want) || (*s != 'T' && *s != ' ') || (s++, parse_time(&s, &want)) || *s) {
		*why = "format";
		return NULL;
	}
	if (zone == NULL)
		zone = "UTC";
	if (!zone_known(zone)) {
		*why = "zone";
		return NULL;
	}
	/* The worker is single-threaded, so borrowing TZ for mktime is safe.
	 * Try the time as standard and as summer time: a time the clocks skip
	 * matches neither, one they repeat matches both (take the first). */
	use_zone(zone, NULL);
	for (int dst = 0; dst <= 1; dst++) {
		struct tm t = want;
		time_t when;

		t.tm_isdst = dst;
		when = mktime(&t);
		if (when == (time_t)-1 || !localtime_r(&when, &got) ||
		    got.tm_year != want.tm_year || got.tm_mon != want.tm_mon ||
		    got.tm_mday != want.tm_mday || got.tm_hour != want.tm_hour ||
		    got.tm_min != want.tm_min)
			continue;
		if (!found || when < best)
			best = when;
		found = 1;
	}
	use_zone(NULL, saved);
	if (!found) {
		*why = "gap";
		return NULL;
	}
	gmtime_r(&best, &utc);
	return arena_printf(a, "%04d-%02d-%02d %02d:%02d:00+00", utc.tm_year + 1900,
			    utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min);
}

/* Checks the text of a text-like field (text, e-mail, password) against
 * its length and character rules. Returns the mistake or -1 if fine. */
static int check_text(const struct field *f, const char *text)
{
	size_t n = utf8_chars(text);

	if (f->type == FT_TEXT && has_controls(text, f->flags & FIELD_MULTILINE ? "\t\n" : "\t"))
		return has_controls(text, "\t\n\r") ? M_CONTROLS : M_ONE_LINE;
	if (f->min && n < (size_t)f->min)
		return M_TOO_SHORT;
	if (f->max && n > (size_t)f->max)
		return M_TOO_LONG;
	return -1;
}

/* The files of a multipart POST sent under field `name` (arena array). */
static void field_files(struct req *r, const char *name, struct form_value *v)
{
	v->files = arena_alloc(r->arena, (r->nuploads + 1) * sizeof(*v->files));
	v->nfiles = 0;
	for (size_t i = 0; i < r->nuploads; i++)
		if (strcmp(r->uploads[i].field, name) == 0)
			v->files[v->nfiles++] = &r->uploads[i];
}

const char *form_files_problem(struct arena *a, struct upload *const *files, size_t n)
{
	static const struct field any = { .label = "a file", .type = FT_FILE };
	const char *msg = NULL;

	for (size_t i = 0; i < n; i++) {
		struct upload *u = files[i];
		const char *problem = NULL;

		if (u->too_large)
			problem = form_message(a, &any, M_FILE_TOO_LARGE, u->filename);
		else if (u->len == 0)
			problem = form_message(a, &any, M_FILE_EMPTY, u->filename);
		else if (u->type == NULL && (u->type = multipart_sniff(u->data, u->len)) == NULL)
			problem = form_message(a, &any, M_FILE_TYPE, u->filename);
		if (problem)
			msg = msg ? arena_printf(a, "%s %s", msg, problem) : problem;
	}
	return msg;
}

/* Checks the files of field `f`: how many, and each by content. Returns
 * the message, or NULL. */
static const char *check_files(struct arena *a, const struct field *f, struct form_value *v)
{
	if (f->max && v->nfiles > (size_t)f->max)
		return form_message(a, f, M_TOO_MANY_FILES, NULL);
	return form_files_problem(a, v->files, v->nfiles);
}

/* Converts the non-empty `text` of field `f` into v (num, sql). Returns
 * the mistake, or -1 if the value is fine. */
static int convert(struct req *r, const struct form_data *d, const struct field *f,
		   struct form_value *v)
{
	const char *s = v->text, *why;
	struct tm tm = { 0 };
	int bad;

	switch (f->type) {
	case FT_TEXT:
	case FT_PASSWORD:
		if ((bad = check_text(f, s)) >= 0)
			return bad;
		break;
	case FT_EMAIL:
		if ((bad = check_text(f, s)) >= 0)
			return bad;
		v->error = form_email_problem(s);
		break;
	case FT_INT:
		if (parse_scaled(s, 0, &v->num))
			return M_NUMBER;
		goto range;
	case FT_DECIMAL:
		if (parse_scaled(s, f->scale, &v->num))
			return M_DECIMAL;
		goto range;
	case FT_MONEY:
		if (parse_scaled(s, 2, &v->num))
			return M_MONEY;
	range:
		if ((f->min || f->max) && (v->num < f->min || v->num > f->max))
			return M_RANGE;
		v->sql = scaled_text(r->arena, v->num, field_scale(f));
		return -1;
	case FT_DATE:
		if (parse_date(&s, &tm) || *s)
			return M_DATE;
		if ((f->flags & FIELD_PAST) && strcmp(v->text, today(r->arena)) > 0)
			return M_FUTURE;
		break;
	case FT_TIME:
		if (parse_time(&s, &tm) || *s)
			return M_TIME;
		break;
	case FT_DATETIME:
		v->sql = form_local_to_utc(r->arena, s, d->zone, &why);
		if (v->sql == NULL && strcmp(why, "zone") == 0)
			log_msg("form: unknown time zone %s", d->zone);
		return v->sql ? -1 : strcmp(why, "gap") == 0 ? M_NO_SUCH_TIME : M_DATETIME;
	case FT_UUID:
		if (!uuid_valid(s, strlen(s)))
			return M_PICK;
		for (char *c = (char *)s; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		break;
	case FT_CHOICE:
		for (const struct field_choice *c = f->choices; c && c->value; c++)
			if (strcmp(c->value, s) == 0)
				goto fine;
		return M_PICK;
	case FT_BOOL:
		v->num = 1;
		v->sql = "t";
		return -1;
	case FT_FILE:
		break;
	}
fine:
	/* v->text, not s: the date and time parsers moved s past the value. */
	if (v->sql == NULL)
		v->sql = v->text;
	return -1;
}

/* Puts field `f`'s value as typed into the view (a form comes back as the
 * user left it): text under its name, a checkbox as a boolean, a choice
 * also as the list <name>_choices. Never a password. */
static void view_value(struct req *r, const struct field *f, const struct form_value *v)
{
	struct arena *a = r->arena;
	struct tv *list;

	switch (f->type) {
	case FT_PASSWORD:
	case FT_FILE:
		return;
	case FT_BOOL:
		tv_set_bool(a, r->view, f->name, v->num != 0);
		return;
	case FT_CHOICE:
		list = tv_set(a, r->view, arena_printf(a, "%s_choices", f->name), tv_list(a));
		for (const struct field_choice *c = f->choices; c && c->value; c++) {
			struct tv *m = tv_map(a);

			tv_set_str(a, m, "value", c->value);
			tv_set_str(a, m, "label", c->label);
			tv_set_bool(a, m, "selected", strcmp(c->value, v->text) == 0);
			tv_push(a, list, m);
		}
		/* fall through */
	default:
		tv_set_str(a, r->view, f->name, v->text);
	}
}

/* Reads and checks one field into v; returns 1 if it is valid. */
static int read_field(struct req *r, struct form_data *d, const struct field *f,
		      struct form_value *v)
{
	const char *raw = r->method == M_POST ? http_form(r, f->name) : http_query(r, f->name);
	int mistake = -1, empty;

	memset(v, 0, sizeof(*v));
	if (f->type == FT_FILE) {
		field_files(r, f->name, v);
		v->text = "";
		empty = v->nfiles == 0;
	} else if (f->type == FT_PASSWORD) {
		v->text = raw ? raw : "";
		empty = *v->text == '\0';
	} else {
		v->text = trimmed(r->arena, raw ? raw : "");
		if (f->flags & FIELD_MULTILINE)
			v->text = lf_only((char *)v->text);
		empty = *v->text == '\0';
	}
	if (empty)
		mistake = f->flags & FIELD_REQUIRED ? M_MISSING : -1;
	else if (f->type == FT_FILE)
		v->error = check_files(r->arena, f, v);
	else
		mistake = convert(r, d, f, v);
	if (mistake >= 0)
		v->error = form_message(r->arena, f, (enum mistake)mistake, NULL);
	view_value(r, f, v);
	if (v->error)
		tv_set_str(r->arena, r->view, arena_printf(r->arena, "%s_error", f->name), v->error);
	return v->error == NULL;
}

int form_read(struct req *r, const struct form *f, struct form_data *d)
{
	size_t n = 0;

	while (f->fields[n].name)
		n++;
	d->form = f;
	d->errors = 0;
	d->v = arena_alloc(r->arena, (n ? n : 1) * sizeof(*d->v));
	for (size_t i = 0; i < n; i++)
		d->errors += !read_field(r, d, &f->fields[i], &d->v[i]);
	return d->errors ? 422 : 0;
}

void form_fill(struct req *r, const struct form *f, const struct tv *values)
{
	for (const struct field *fl = f->fields; fl->name; fl++) {
		const struct tv *t = tv_get(values, fl->name);
		struct form_value v = { .text = "" };

		if (t && t->kind == TV_STR)
			v.text = t->u.str.s;
		else if (t && t->kind == TV_NUM)
			v.text = arena_printf(r->arena, "%.0f", t->u.num);
		if (fl->type == FT_BOOL)
			v.num = t && (t->kind == TV_BOOL ? t->u.b : strcmp(v.text, "t") == 0);
		view_value(r, fl, &v);
	}
}

void form_blank(struct req *r, const struct form *f)
{
	form_fill(r, f, NULL);
}

/* The index of field `name` in d's form; aborts on an undeclared name. */
static size_t field_index(const struct form_data *d, const char *name)
{
	for (size_t i = 0; d->form->fields[i].name; i++)
		if (strcmp(d->form->fields[i].name, name) == 0)
			return i;
	log_msg("form: no field %s", name);
	abort();
}

const struct form_value *form_get(const struct form_data *d, const char *name)
{
	return &d->v[field_index(d, name)];
}

const char *form_text(const struct form_data *d, const char *name)
{
	return form_get(d, name)->text;
}

int form_fail(struct req *r, struct form_data *d, const char *name, const char *message)
{
	struct form_value *v = &d->v[field_index(d, name)];

	d->errors += v->error == NULL;
	v->error = message;
	tv_set_str(r->arena, r->view, arena_printf(r->arena, "%s_error", name), message);
	return 422;
}
