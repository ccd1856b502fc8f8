/* form.h - declared forms: a page states its fields once, as data, and
 * form_read() checks a request against them into typed values. */
#ifndef CAREBOX_FORM_H
#define CAREBOX_FORM_H

#include "http.h"

/* What a field holds, and so how it is read and checked. */
enum field_type {
	FT_TEXT,	/* trimmed text; one line unless FIELD_MULTILINE */
	FT_EMAIL,	/* an e-mail address (trimmed) */
	FT_PASSWORD,	/* taken as typed (never trimmed), never sent back */
	FT_INT,		/* a whole number within min..max */
	FT_DECIMAL,	/* a number with at most `scale` decimals, e.g. 2.5 */
	FT_MONEY,	/* an amount with at most 2 decimals, kept in cents */
	FT_DATE,	/* YYYY-MM-DD */
	FT_TIME,	/* HH:MM (24 hours) */
	FT_DATETIME,	/* YYYY-MM-DDTHH:MM in the zone form_read is given */
	FT_UUID,	/* an id picked from a list the page offers */
	FT_CHOICE,	/* one of `choices` */
	FT_BOOL,	/* a checkbox: present or not */
	FT_FILE,	/* files of a multipart POST (PDF, PNG, JPEG, plain text) */
};

#define FIELD_REQUIRED	1u	/* empty is a mistake */
#define FIELD_MULTILINE	2u	/* FT_TEXT: line breaks allowed (CRLF kept as LF) */
#define FIELD_PAST	4u	/* FT_DATE: not after today (UTC), e.g. a date of birth */

struct field_choice {
	const char *value;	/* what the form sends */
	const char *label;	/* what the user sees */
};

/* One field. `label` is a lower-case noun phrase as the user knows the
 * field ("your first name", "a message"): messages put it into sentences
 * ("Enter your first name.", "A message may have at most 20,000
 * characters."). `min` and `max` bound the length in characters (text,
 * e-mail, password), the value (integer; money in cents; decimal in units
 * of its scale) or the number of files; 0 and 0 mean the type's default.
 * `scale` is FT_DECIMAL's number of decimals. */
struct field {
	const char *name;
	const char *label;
	enum field_type type;
	unsigned flags;
	long long min, max;
	const struct field_choice *choices;	/* FT_CHOICE: ends with a NULL value */
	int scale;
};

/* A form: its fields, ending with one whose name is NULL. */
struct form {
	const struct field *fields;
};

/* One field's value after form_read(). */
struct form_value {
	const char *text;	/* as typed, trimmed ("" if absent); passwords as typed */
	const char *sql;	/* the value as a SQL parameter ("12.50", "2026-03-29",
				 * "2026-03-29 01:30:00+00", "t"), NULL when empty */
	long long num;		/* integer; money in cents; decimal times 10^scale; bool 0/1 */
	struct upload **files;	/* FT_FILE: the field's files (arena) */
	size_t nfiles;
	const char *error;	/* the message shown next to the field, or NULL */
};

/* What form_read() found: a value per field, in the declared order. Set
 * `zone` (an IANA zone such as "Europe/London") before form_read() when the
 * form has FT_DATETIME fields; NULL means UTC. */
struct form_data {
	const struct form *form;
	struct form_value *v;
	int errors;
	const char *zone;
};

/* Reads the request's fields (the POST body, or for a GET the query
 * string) against `f`: trims, checks each declared rule and converts to
 * typed values in d->v (arena). Puts into r->view, for each field, its
 * value as typed under the field's name (never a password's; a checkbox as
 * a boolean; a choice also as the list "<name>_choices" of {value, label,
 * selected}) and the message of a mistake under "<name>_error". Returns 0
 * when every field is valid, else 422 (d->errors counts the fields in
 * error). Allocates only in the request arena. */
int form_read(struct req *r, const struct form *f, struct form_data *d);

/* Puts the empty form `f` into r->view for a first display: "" for each
 * text field, false for a checkbox, the lists <name>_choices with nothing
 * selected. Checks nothing. */
void form_blank(struct req *r, const struct form *f);

/* Puts stored values into r->view for the first display of an edit form,
 * as form_read() shows what was typed: each field's value is taken from
 * the map `values` under the field's name (a row_view() of a row whose
 * columns are named as the fields); a string as it is, a number as a
 * whole number, a boolean for a checkbox (also the string "t"), a choice
 * with its list <name>_choices and the stored value selected. A missing
 * value shows as empty; never a password. Checks nothing; allocates in
 * the request arena. form_blank() is form_fill() with no values. */
void form_fill(struct req *r, const struct form *f, const struct tv *values);

/* The value of field `name` (which the form must declare: an unknown name
 * aborts, as it is a programming error). */
const struct form_value *form_get(const struct form_data *d, const char *name);

/* Shorthand for form_get(d, name)->text. */
const char *form_text(const struct form_data *d, const char *name);

/* Marks field `name` wrong with `message` (a check only the page can make:
 * the e-mail address is taken, the person may not be written to), in d
 * and in r->view; the page's more specific message replaces the field's
 * own. Returns 422. */
int form_fail(struct req *r, struct form_data *d, const char *name, const char *message);

/* Checks `n` uploaded files by content, once each (the type found is kept
 * in u->type): each must be a non-empty PDF, PNG, JPEG or UTF-8 plain text
 * file. Returns one sentence per refused file, naming it ("report.exe is
 * not a PDF, PNG, JPEG or plain text file. x.txt is empty."), or NULL. */
const char *form_files_problem(struct arena *a, struct upload *const *files, size_t n);

/* The message for an e-mail address that is not acceptable, or NULL; the
 * same words form_read() uses (for carebox-admin and other non-form input). */
const char *form_email_problem(const char *email);

/* Converts `local` ("YYYY-MM-DDTHH:MM" or "YYYY-MM-DD HH:MM") in time zone
 * `zone` (NULL: UTC) to the instant as "YYYY-MM-DD HH:MM:SS+00" (arena).
 * A time that the clocks skip (spring forward) is refused; one that occurs
 * twice (fall back) is taken at its first occurrence. Returns NULL with
 * *why set ("format", "zone" or "gap") on failure. */
const char *form_local_to_utc(struct arena *a, const char *local, const char *zone,
			      const char **why);

#endif
