/* test_form.c - declared forms (src/form.c): reading, trimming, checking,
 * converting, the messages next to fields, values kept, passwords never. */
#include <stdlib.h>
#include <string.h>

#include "form.h"
#include "tap.h"

static struct arena *A;

static const struct field_choice roles[] = {
	{ "doctor", "Doctor" }, { "admin", "Admin" }, { NULL, NULL }
};

static const struct field fields[] = {
	{ .name = "name", .label = "your first name", .type = FT_TEXT,
	  .flags = FIELD_REQUIRED, .max = 5 },
	{ .name = "note", .label = "a message", .type = FT_TEXT,
	  .flags = FIELD_REQUIRED | FIELD_MULTILINE, .min = 2, .max = 20000 },
	{ .name = "email", .label = "your e-mail address", .type = FT_EMAIL, .max = 254 },
	{ .name = "pw", .label = "a password", .type = FT_PASSWORD, .max = 1024 },
	{ .name = "n", .label = "the number of pets", .type = FT_INT, .min = 1, .max = 20 },
	{ .name = "dose", .label = "the dose", .type = FT_DECIMAL, .scale = 2, .min = 1,
	  .max = 100000 },
	{ .name = "fee", .label = "the fee", .type = FT_MONEY, .min = 0, .max = 100000 },
	{ .name = "day", .label = "the day", .type = FT_DATE },
	{ .name = "at", .label = "the time", .type = FT_TIME },
	{ .name = "when", .label = "the appointment", .type = FT_DATETIME },
	{ .name = "id", .label = "a person", .type = FT_UUID },
	{ .name = "role", .label = "doctor or admin", .type = FT_CHOICE, .choices = roles },
	{ .name = "ok", .label = "the box", .type = FT_BOOL },
	{ 0 }
};
static const struct form form = { fields };

/* A POST request whose urlencoded body is `body`, with an empty view. */
static struct req *post(const char *body)
{
	struct req *r = arena_alloc(A, sizeof(*r));

	memset(r, 0, sizeof(*r));
	r->arena = A;
	r->method = M_POST;
	r->view = tv_map(A);
	if (http_parse_urlencoded(A, body, strlen(body), &r->form))
		abort();
	return r;
}

/* The string `key` of the view, or "(none)". */
static const char *shown(struct req *r, const char *key)
{
	struct tv *v = tv_get(r->view, key);

	return v && v->kind == TV_STR ? v->u.str.s : "(none)";
}

static void test_good(void)
{
	struct req *r = post("name=+Ada+&note=line%0D%0Atwo+&email=a%40b.org&pw=+secret+"
			     "&n=3&dose=2.5&fee=12.5&day=2026-03-29&at=09:05"
			     "&when=2026-03-29T10:30&id=0AA0C6E2-1C8B-4F5B-8D2B-5D0D6E0F7A11"
			     "&role=admin&ok=on");
	struct form_data d = { 0 };

	ok(form_read(r, &form, &d) == 0 && d.errors == 0, "a good form reads without errors");
	is_str(form_text(&d, "name"), "Ada", "text is trimmed");
	is_str(form_text(&d, "note"), "line\ntwo", "CRLF becomes LF in multi-line text");
	is_str(form_text(&d, "pw"), " secret ", "a password is taken as typed");
	is_str(shown(r, "pw"), "(none)", "a password never goes back into the view");
	ok(form_get(&d, "n")->num == 3, "an integer is converted");
	ok(form_get(&d, "dose")->num == 250, "a decimal is kept in units of its scale");
	is_str(form_get(&d, "dose")->sql, "2.50", "and as a SQL value");
	ok(form_get(&d, "fee")->num == 1250, "money is kept in cents");
	is_str(form_get(&d, "fee")->sql, "12.50", "money as a SQL value");
	is_str(form_get(&d, "when")->sql, "2026-03-29 10:30:00+00", "a datetime in UTC by default");
	is_str(form_text(&d, "id"), "0aa0c6e2-1c8b-4f5b-8d2b-5d0d6e0f7a11", "ids are lower-case");
	ok(form_get(&d, "ok")->num == 1 && tv_get(r->view, "ok")->kind == TV_BOOL,
	   "a ticked box is true, in the view too");
	ok(tv_get(r->view, "role_choices")->u.list.n == 2 &&
	   tv_get(tv_get(r->view, "role_choices")->u.list.items[1], "selected")->u.b,
	   "a choice lists its options with the chosen one selected");
	is_str(shown(r, "name"), "Ada", "values go back into the view");
	ok(form_get(&d, "email")->sql != NULL && form_get(&d, "n")->error == NULL, "no errors");
}

static void test_mistakes(void)
{
	struct req *r = post("name=Adalbert&note=%01x&email=not-an-address&n=21&dose=1.234"
			     "&fee=12.345&day=2026-02-30&at=24:00&when=tomorrow&id=nope"
			     "&role=owner");
	struct form_data d = { 0 };

	ok(form_read(r, &form, &d) == 422, "mistakes answer 422");
	ok(d.errors == 11, "each wrong field counts once (%d)", d.errors);
	is_str(shown(r, "name_error"), "Your first name may have at most 5 characters.",
	       "too long, naming the field as the user sees it");
	is_str(shown(r, "name"), "Adalbert", "the typed value comes back");
	is_str(shown(r, "note_error"), "A message contains characters that cannot be shown.",
	       "control characters");
	is_str(shown(r, "email_error"), "Enter an e-mail address like name@example.org.",
	       "an e-mail address");
	is_str(shown(r, "n_error"), "The number of pets is between 1 and 20.", "a range");
	is_str(shown(r, "dose_error"), "The dose is a number with at most 2 decimals, like 2.5.",
	       "too many decimals");
	is_str(shown(r, "fee_error"), "The fee is an amount like 12.50.", "money");
	is_str(shown(r, "day_error"), "The day is a date like 2026-03-31 (year, month, day).",
	       "a date that does not exist");
	is_str(shown(r, "at_error"), "The time is a time like 14:30.", "a time");
	is_str(shown(r, "when_error"), "The appointment is a date and time like 2026-03-31 14:30.",
	       "a datetime");
	is_str(shown(r, "id_error"), "Choose a person from the list.", "an id");
	is_str(shown(r, "role_error"), "Choose doctor or admin from the list.", "a choice");
	ok(tv_get(r->view, "pw_error") == NULL, "an optional empty field is fine");
}

static void test_required(void)
{
	struct req *r = post("name=+&note=%0D%0A+");
	struct form_data d = { 0 };

	ok(form_read(r, &form, &d) == 422 && d.errors == 2, "two required fields left empty");
	is_str(shown(r, "name_error"), "Enter your first name.", "enter, for a line");
	is_str(shown(r, "note_error"), "Write a message.", "write, for a text");
	ok(form_get(&d, "n")->sql == NULL && form_get(&d, "ok")->num == 0,
	   "empty optional fields have no value");
	r = post("name=Ann&note=a");
	form_read(r, &form, &d);
	is_str(shown(r, "note_error"), "A message needs at least 2 characters.", "too short");
	ok(form_fail(r, &d, "name", "Taken.") == 422 && d.errors == 2, "a page's own check counts");
	is_str(shown(r, "name_error"), "Taken.", "and is shown next to the field");
	r = post("name=Ann&note=%C3%A9%C3%A9");
	ok(form_read(r, &form, &d) == 0, "characters are counted, not bytes");
}

static void test_zones(void)
{
	const char *why = NULL;

	is_str(form_local_to_utc(A, "2026-03-29 00:30", "Europe/London", &why),
	       "2026-03-29 00:30:00+00", "winter time in London is UTC");
	is_str(form_local_to_utc(A, "2026-03-29T02:30", "Europe/London", &why),
	       "2026-03-29 01:30:00+00", "summer time is an hour ahead");
	ok(form_local_to_utc(A, "2026-03-29T01:30", "Europe/London", &why) == NULL &&
	   strcmp(why, "gap") == 0, "a time the clocks skip does not exist");
	is_str(form_local_to_utc(A, "2026-10-25T01:30", "Europe/London", &why),
	       "2026-10-25 00:30:00+00", "a time that occurs twice is taken the first time");
	is_str(form_local_to_utc(A, "2026-07-01T12:00", "America/New_York", &why),
	       "2026-07-01 16:00:00+00", "another zone");
	ok(form_local_to_utc(A, "2026-07-01T12:00", "Mars/Olympus", &why) == NULL &&
	   strcmp(why, "zone") == 0, "an unknown zone is refused");
	ok(getenv("TZ") == NULL, "the process's zone is left as it was");
}

static void test_gap_message(void)
{
	struct req *r = post("name=A&note=ab&when=2026-03-29T01:15");
	struct form_data d = { .zone = "Europe/London" };

	ok(form_read(r, &form, &d) == 422, "a datetime the clocks skip is refused");
	is_str(shown(r, "when_error"), "The appointment does not exist: the clocks go forward "
	       "at that hour. Choose another time.", "with a message that says why");
}

static void test_fill(void)
{
	struct req *r = post("");
	struct tv *stored = tv_map(A);
	struct tv *choices;

	tv_set_str(A, stored, "name", "Ada");
	tv_set_str(A, stored, "fee", "9.50");
	tv_set_num(A, stored, "n", 3);
	tv_set_str(A, stored, "role", "doctor");
	tv_set_bool(A, stored, "ok", 1);
	tv_set_str(A, stored, "pw", "secret");
	form_fill(r, &form, stored);
	is_str(shown(r, "name"), "Ada", "a stored text fills its field");
	is_str(shown(r, "fee"), "9.50", "money as stored");
	is_str(shown(r, "n"), "3", "a number as a whole number");
	is_str(shown(r, "note"), "", "a value not stored is empty");
	is_str(shown(r, "pw"), "(none)", "never a password");
	ok(tv_get(r->view, "ok")->kind == TV_BOOL && tv_get(r->view, "ok")->u.b,
	   "a stored true ticks the box");
	choices = tv_get(r->view, "role_choices");
	ok(choices && choices->u.list.n == 2 &&
	   tv_get(choices->u.list.items[0], "selected")->u.b &&
	   !tv_get(choices->u.list.items[1], "selected")->u.b,
	   "the stored choice is selected, the others not");
	r = post("");
	form_blank(r, &form);
	is_str(shown(r, "name"), "", "a blank form is empty");
	ok(!tv_get(r->view, "ok")->u.b &&
	   !tv_get(tv_get(r->view, "role_choices")->u.list.items[0], "selected")->u.b,
	   "with the box unticked and nothing chosen");
}

static const struct field born_fields[] = {
	{ .name = "born", .label = "their date of birth", .type = FT_DATE, .flags = FIELD_PAST },
	{ 0 }
};
static const struct form born_form = { born_fields };

static void test_past(void)
{
	struct req *r = post("born=2999-01-01");
	struct form_data d = { 0 };

	ok(form_read(r, &born_form, &d) == 422, "a date after today is refused");
	is_str(shown(r, "born_error"), "Their date of birth cannot be in the future.",
	       "with the field's name");
	is_str(shown(r, "born"), "2999-01-01", "the typed date comes back");
	r = post("born=1990-05-17");
	ok(form_read(r, &born_form, &d) == 0, "a date in the past is fine");
	is_str(form_get(&d, "born")->sql, "1990-05-17", "as its SQL value");
}

int main(void)
{
	A = arena_new(4096);
	test_good();
	test_mistakes();
	test_required();
	test_zones();
	test_gap_message();
	test_fill();
	test_past();
	arena_free(A);
	return tap_done();
}
