/* page_clinic.c - a clinic's profile: its admins edit it at /admin/clinic,
 * and anyone finds clinics at /clinics and reads one at /clinics/{id}. */
#include "page.h"

#include <string.h>

#include "audit.h"
#include "pager.h"
#include "row.h"
#include "sess.h"

#define CLINICS_PAGE 20		/* clinics a directory page lists */

/* The stored profile, its columns named as the form's fields (form_fill). */
#define CLINIC_PROFILE \
	"SELECT kind, address_line1, address_line2, postcode, city, country, phone," \
	" public_email, time_zone, prescription_fee::text AS prescription_fee, currency," \
	" description, staff_two_step FROM clinics WHERE id = $1"

/* The directory's rows: clinics whose name or city contains $1 (any case;
 * strpos, not LIKE, so % and _ are just characters, and "" matches all),
 * by name. lower(name) is unique (clinics_name_key): it is the page key. */
#define CLINICS_ROWS \
	" c.id, c.name, c.kind, c.city FROM clinics c" \
	" WHERE (strpos(lower(c.name), lower($1)) > 0 OR strpos(lower(c.city), lower($1)) > 0)"

/* The pages after and before a cursor $2 resolve it to its name first:
 * an unknown id answers cursor_ok false (pager.h). */
#define CLINICS_CURSOR \
	"SELECT k.name IS NOT NULL AS cursor_ok, l.* FROM (SELECT (SELECT lower(x.name)" \
	" FROM clinics x WHERE x.id = $2::uuid) AS name) k LEFT JOIN LATERAL (SELECT"

/* The admin pages take the admin's clinic ($1, from the session: the
 * clinic they act for); the directory shows every clinic to anyone, and
 * of its people only the doctors' names, through clinic_doctors()
 * (sql/0010_clinic_profile.sql). */
const struct db_stmt page_clinic_stmts[] = {
	{ "clinic_profile", CLINIC_PROFILE },
	/* The POST compares with the stored row and writes it: held meanwhile,
	 * so the audit entry lists exactly what this save changed. */
	{ "clinic_profile_lock", CLINIC_PROFILE " FOR UPDATE" },
	/* A time zone as pg_timezone_names spells it, found in any case. */
	{ "clinic_zone",
	  "SELECT name FROM pg_timezone_names WHERE lower(name) = lower($1)"
	  " ORDER BY name = $1 DESC, name LIMIT 1" },
	/* $2... in the order of clinic_fields. */
	{ "clinic_profile_update",
	  "UPDATE clinics SET kind = $2, address_line1 = $3, address_line2 = $4, postcode = $5,"
	  " city = $6, country = $7, phone = $8, public_email = $9, time_zone = $10,"
	  " prescription_fee = $11, currency = $12, description = $13, staff_two_step = $14"
	  " WHERE id = $1" },
	{ "clinics_first",
	  "SELECT true AS cursor_ok," CLINICS_ROWS " ORDER BY lower(c.name) LIMIT 21" },
	{ "clinics_older",
	  CLINICS_CURSOR CLINICS_ROWS " AND lower(c.name) > k.name"
	  " ORDER BY lower(c.name) LIMIT 21) l ON true ORDER BY lower(l.name)" },
	{ "clinics_newer",
	  CLINICS_CURSOR CLINICS_ROWS " AND lower(c.name) < k.name"
	  " ORDER BY lower(c.name) DESC LIMIT 21) l ON true ORDER BY lower(l.name) DESC" },
	{ "clinic_public",
	  "SELECT c.name, c.kind, c.description, c.address_line1, c.address_line2, c.postcode,"
	  " c.city, c.country, c.phone, c.public_email, c.time_zone,"
	  " (c.address_line1 || c.address_line2 || c.postcode || c.city || c.country) <> ''"
	  " AS has_address, (c.phone || c.public_email) <> '' AS has_contact"
	  " FROM clinics c WHERE c.id = $1" },
	/* Every weekday (1 = Monday), with its opening times or NULL (closed). */
	{ "clinic_week",
	  "SELECT (ARRAY['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday',"
	  " 'Sunday'])[d] AS day, string_agg(to_char(h.opens, 'HH24:MI') || chr(8211) ||"
	  " to_char(h.closes, 'HH24:MI'), ', ' ORDER BY h.opens) AS hours"
	  " FROM generate_series(1, 7) d LEFT JOIN clinic_hours h ON h.clinic_id = $1"
	  " AND h.weekday = d GROUP BY d ORDER BY d" },
	{ "clinic_doctors",
	  "SELECT d.first_name, d.last_name FROM clinic_doctors($1) d"
	  " ORDER BY lower(d.last_name), lower(d.first_name), d.id LIMIT 200" },
	{ NULL, NULL }
};

static const char *const clinics_pages[3] = {
	"clinics_first", "clinics_older", "clinics_newer"
};

static const struct field_choice clinic_kinds[] = {
	{ "medical", "Medical practice" },
	{ "veterinary", "Veterinary practice" },
	{ NULL, NULL }
};

/* The profile form. Each field is named as its column, and the order is
 * that of clinic_profile_update's parameters $2... */
enum {
	CF_KIND, CF_LINE1, CF_LINE2, CF_POSTCODE, CF_CITY, CF_COUNTRY, CF_PHONE, CF_EMAIL,
	CF_ZONE, CF_FEE, CF_CURRENCY, CF_DESCRIPTION, CF_TWO_STEP, CF_COUNT
};
static const struct field clinic_fields[CF_COUNT + 1] = {
	[CF_KIND] = { .name = "kind", .label = "the kind of practice", .type = FT_CHOICE,
		      .flags = FIELD_REQUIRED, .choices = clinic_kinds },
	[CF_LINE1] = { .name = "address_line1", .label = "the first line of the address",
		       .type = FT_TEXT, .max = 200 },
	[CF_LINE2] = { .name = "address_line2", .label = "the second line of the address",
		       .type = FT_TEXT, .max = 200 },
	[CF_POSTCODE] = { .name = "postcode", .label = "the postcode", .type = FT_TEXT,
			  .max = 20 },
	[CF_CITY] = { .name = "city", .label = "the town or city", .type = FT_TEXT, .max = 100 },
	[CF_COUNTRY] = { .name = "country", .label = "the country", .type = FT_TEXT, .max = 100 },
	[CF_PHONE] = { .name = "phone", .label = "the phone number", .type = FT_TEXT, .max = 40 },
	[CF_EMAIL] = { .name = "public_email", .label = "the clinic's public e-mail address",
		       .type = FT_EMAIL, .max = 254 },
	[CF_ZONE] = { .name = "time_zone", .label = "the time zone", .type = FT_TEXT,
		      .flags = FIELD_REQUIRED, .max = 100 },
	/* numeric(10,2): at most 99,999,999.99 */
	[CF_FEE] = { .name = "prescription_fee", .label = "the prescription fee",
		     .type = FT_MONEY, .flags = FIELD_REQUIRED, .min = 0, .max = 9999999999LL },
	[CF_CURRENCY] = { .name = "currency", .label = "the currency", .type = FT_TEXT,
			  .flags = FIELD_REQUIRED, .max = 3 },
	[CF_DESCRIPTION] = { .name = "description", .label = "the description", .type = FT_TEXT,
			     .flags = FIELD_MULTILINE, .max = 1000 },
	/* Whether its doctors and admins must use two-step sign-in
	 * (page_two_step.c): they enrol at their next sign-in. */
	[CF_TWO_STEP] = { .name = "staff_two_step", .label = "two-step sign-in for staff",
			  .type = FT_BOOL },
	[CF_COUNT] = { 0 }
};
static const struct form clinic_form = { clinic_fields };

/* Sets "kind_label" in the row map `m` from its "kind" ("Medical
 * practice"): the words the form offers, so they are written once. */
static void clinic_kind_label(struct arena *a, struct tv *m)
{
	const struct tv *kind = tv_get(m, "kind");

	for (const struct field_choice *c = clinic_kinds; c->value && kind; c++)
		if (kind->kind == TV_STR && strcmp(kind->u.str.s, c->value) == 0)
			tv_set_str(a, m, "kind_label", c->label);
}

/* Renders the profile form as the view holds it, with `status`. */
static int clinic_profile_page(struct req *r, int status)
{
	tv_set_str(r->arena, r->view, "title", "Clinic profile");
	tv_set_str(r->arena, r->view, "clinic_id", r->user->clinic_id);
	return http_render_status(r, "admin_clinic", status);
}

/* GET /admin/clinic: the form with the stored profile. */
int page_clinic_profile_get(struct req *r)
{
	PGresult *res;
	int status = row_load(r, "clinic_profile", 1, &r->user->clinic_id, 0, &res);

	if (status)
		return status;
	form_fill(r, &clinic_form, row_view(r->arena, res, 0, 0));
	PQclear(res);
	return clinic_profile_page(r, 200);
}

/* 1 if `s` is three capital letters A-Z (an ISO 4217 code). */
static int currency_code(const char *s)
{
	return strlen(s) == 3 && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == 3;
}

/* 1 if `s` has only what phone numbers are written with. */
static int phone_chars(const char *s)
{
	return strspn(s, "0123456789 +-()./") == strlen(s);
}

/* `s` with a-z in capitals (arena). */
static const char *capitals(struct arena *a, const char *s)
{
	char *out = arena_strdup(a, s);

	for (char *c = out; *c; c++)
		if (*c >= 'a' && *c <= 'z')
			*c = (char)(*c - 'a' + 'A');
	return out;
}

/* Sets p[1 + i], the values to store for field i of the read form `d`
 * (parameters $2... of clinic_profile_update; "" for an empty field),
 * and makes the checks only this page can make, with form_fail(): the
 * time zone is one pg_timezone_names lists (looked up only when it is not
 * the stored one, `stored`; stored as that view spells it), the currency
 * three letters (stored in capitals), the phone number phone characters.
 * Returns 0, or the status of a database failure; d->errors counts the
 * mistakes. */
static int clinic_values(struct req *r, struct form_data *d, const char *stored,
			 const char **p)
{
	const char *zone = d->v[CF_ZONE].text;
	PGresult *res;

	for (int i = 0; i < CF_COUNT; i++)
		p[1 + i] = d->v[i].sql ? d->v[i].sql : "";
	p[1 + CF_TWO_STEP] = d->v[CF_TWO_STEP].num ? "t" : "f";
	if (d->v[CF_PHONE].error == NULL && !phone_chars(d->v[CF_PHONE].text))
		form_fail(r, d, "phone", "The phone number may have only digits, spaces, "
			  "brackets, dots, slashes, + and -.");
	p[1 + CF_CURRENCY] = capitals(r->arena, d->v[CF_CURRENCY].text);
	if (d->v[CF_CURRENCY].error == NULL && !currency_code(p[1 + CF_CURRENCY]))
		form_fail(r, d, "currency", "The currency is a three-letter code such as GBP, "
			  "EUR or USD.");
	if (d->v[CF_ZONE].error || strcmp(zone, stored) == 0)
		return 0;
	if ((res = db_exec(r->db, "clinic_zone", 1, &zone)) == NULL)
		return db_failure_status(r->db);
	if (PQntuples(res) == 1)
		p[1 + CF_ZONE] = arena_strdup(r->arena, PQgetvalue(res, 0, 0));
	else
		form_fail(r, d, "time_zone", "This is not a time zone we know. Enter its name "
			  "as in the IANA time zone database, such as Europe/London or "
			  "America/New_York.");
	PQclear(res);
	return 0;
}

/* The names of the fields whose new value p[1 + i] differs from the
 * stored row `old`, as "city, time_zone" (arena), or NULL if none does. */
static const char *clinic_changes(struct arena *a, PGresult *old, const char *const *p)
{
	const char *list = NULL;

	for (int i = 0; i < CF_COUNT; i++) {
		const char *name = clinic_fields[i].name, *was = row_text(a, old, 0, name);

		if (strcmp(was ? was : "", p[1 + i]) != 0)
			list = list ? arena_printf(a, "%s, %s", list, name) : name;
	}
	return list;
}

/* POST /admin/clinic: stores the profile in one UPDATE with its audit
 * entry ("clinic profile changed", the names of the changed fields: no
 * values), or sends the form back with 422. */
int page_clinic_profile_post(struct req *r)
{
	struct form_data d = { 0 };
	const char *p[CF_COUNT + 1] = { r->user->clinic_id }, *changed;
	PGresult *old, *res;
	int status;

	form_read(r, &clinic_form, &d);
	if ((status = row_load(r, "clinic_profile_lock", 1, p, 0, &old)))
		return status;
	status = clinic_values(r, &d, row_text(r->arena, old, 0, "time_zone"), p);
	changed = status || d.errors ? NULL : clinic_changes(r->arena, old, p);
	PQclear(old);
	if (status)
		return status;
	if (d.errors)
		return clinic_profile_page(r, 422);
	if (changed == NULL)
		return (status = sess_flash(r, "ok", "Nothing was changed.")) ? status :
		       http_redirect(r, "/admin/clinic");
	if ((res = db_exec(r->db, "clinic_profile_update", CF_COUNT + 1, p)) == NULL)
		return db_failure_status(r->db);
	PQclear(res);
	if ((status = audit(r, "clinic profile changed", r->user->clinic_id, NULL, changed)) ||
	    (status = sess_flash(r, "ok", "The clinic profile was saved.")))
		return status;
	return http_redirect(r, "/admin/clinic");
}

static const struct field clinics_search_fields[] = {
	{ .name = "q", .label = "your search", .type = FT_TEXT, .max = 100 },
	{ 0 }
};
static const struct form clinics_search_form = { clinics_search_fields };

/* GET /clinics[?q=][&before=|&after=<clinic id>]: the clinics whose name
 * or town contains q (all without q), by name, CLINICS_PAGE a page: "clinics"
 * [{id, name, kind, kind_label, city}] and the pager's links. */
int page_clinics_get(struct req *r)
{
	struct form_data d = { 0 };
	struct buf base = BUF_INIT;
	struct pager pg;
	const char *p[2], *q;
	struct tv *list;
	PGresult *res;
	int status;

	tv_set_str(r->arena, r->view, "title", "Find a clinic");
	if (form_read(r, &clinics_search_form, &d))
		return http_render_status(r, "clinics", 400);
	q = form_text(&d, "q");
	buf_puts(&base, "/clinics");
	if (*q) {
		buf_puts(&base, "?q=");
		buf_put_urlarg(&base, q, strlen(q));
	}
	status = pager_read(r, &pg, arena_strdup(r->arena, base.data), CLINICS_PAGE, KEY_UUID);
	buf_free(&base);
	if (status)
		return status;
	p[0] = q;
	p[1] = pg.cursor;
	if ((res = db_exec(r->db, pager_stmt(&pg, clinics_pages), pg.cursor ? 2 : 1, p)) == NULL)
		return db_failure_status(r->db);
	status = pager_view(r, &pg, res, 0, "clinics");
	PQclear(res);
	if (status)
		return status;
	list = tv_get(r->view, "clinics");
	for (size_t i = 0; i < list->u.list.n; i++)
		clinic_kind_label(r->arena, list->u.list.items[i]);
	tv_set_bool(r->arena, r->view, "searched", *q != '\0');
	return http_render(r, "clinics");
}

/* Runs `stmt` for clinic `id` and puts its rows under `key` in the view.
 * Returns the result (the caller PQclear()s it), or NULL if the database
 * failed. */
static PGresult *clinic_rows(struct req *r, const char *stmt, const char *id, const char *key)
{
	PGresult *res = db_exec(r->db, stmt, 1, &id);

	if (res)
		tv_set(r->arena, r->view, key, row_list(r->arena, res, 0, PQntuples(res), 0));
	return res;
}

/* GET /clinics/{id}: a clinic's public page: its profile as "clinic"
 * (never its prescription fee), its week of opening hours in its time
 * zone ("week" [{day, hours}], hours missing on a closed day;
 * "has_hours") and its doctors' names ("doctors" [{first_name,
 * last_name}], "has_doctors"); no staff e-mail address. An unknown id
 * answers 404. */
int page_clinic_get(struct req *r)
{
	const char *id = r->params[0];
	struct tv *clinic;
	PGresult *res;
	int status = row_load_view(r, "clinic_public", 1, &id, "clinic"), open = 0;

	if (status)
		return status;
	clinic = tv_get(r->view, "clinic");
	clinic_kind_label(r->arena, clinic);
	tv_set(r->arena, r->view, "title", tv_get(clinic, "name"));
	if ((res = clinic_rows(r, "clinic_week", id, "week")) == NULL)
		return db_failure_status(r->db);
	for (int i = 0; i < PQntuples(res); i++)
		open |= !PQgetisnull(res, i, PQfnumber(res, "hours"));
	PQclear(res);
	tv_set_bool(r->arena, r->view, "has_hours", open);
	if ((res = clinic_rows(r, "clinic_doctors", id, "doctors")) == NULL)
		return db_failure_status(r->db);
	tv_set_bool(r->arena, r->view, "has_doctors", PQntuples(res) > 0);
	PQclear(res);
	return http_render(r, "clinic");
}
