/* page_recipients.c - /account/recipients: the people and pets a person
 * seeks care for (care recipients): themselves, family members, pets;
 * listing, adding, editing, archiving. Never deleted. */
#include "page.h"

#include <string.h>

#include "row.h"
#include "sess.h"

/* A recipient's columns, named as the forms' fields (form_fill), from
 * viewer_recipients() (sql/0012_recipients.sql) as r. */
#define RECIPIENT_COLUMNS \
	" r.id, r.kind, r.first_name, r.last_name," \
	" to_char(r.date_of_birth, 'YYYY-MM-DD') AS date_of_birth," \
	" r.date_of_birth AS born, r.relationship, r.species, r.breed," \
	" r.sex, r.neutered, r.weight_kg::text AS weight_kg, r.microchip, r.notes, r.archived," \
	" r.kind = 'self' AS is_self, r.kind = 'person' AS is_person, r.kind = 'pet' AS is_pet," \
	" coalesce(nullif(btrim(r.first_name || ' ' || r.last_name), ''), 'You') AS name"

/* $1 is always the viewer: a person sees and changes only their own
 * recipients (viewer_recipients), and another person's id is a 404. */
const struct db_stmt page_recipients_stmts[] = {
	/* Active ones first (the self first), then the archived ones. */
	{ "recipients_mine",
	  "SELECT" RECIPIENT_COLUMNS " FROM viewer_recipients($1) r"
	  " ORDER BY r.archived, r.kind <> 'self', lower(r.first_name), lower(r.last_name), r.id"
	  " LIMIT 500" },
	/* What the viewer may add: family members while a patient of a
	 * medical practice, pets while a patient of a veterinary one. */
	{ "recipients_kinds",
	  "SELECT coalesce(bool_or(c.kind = 'medical'), false) AS may_person,"
	  " coalesce(bool_or(c.kind = 'veterinary'), false) AS may_pet"
	  " FROM memberships m JOIN clinics c ON c.id = m.clinic_id"
	  " WHERE m.user_id = $1 AND m.active AND m.role = 'patient'" },
	{ "recipient_get",
	  "SELECT" RECIPIENT_COLUMNS " FROM viewer_recipients($1) r WHERE r.id = $2" },
	/* $2 the kind, $3... the values of recipient_columns. */
	{ "recipient_insert",
	  "INSERT INTO care_recipients (owner_id, kind, first_name, last_name, date_of_birth,"
	  " relationship, species, breed, sex, neutered, weight_kg, microchip, notes)"
	  " VALUES ($1, $2, $3, coalesce($4, ''), $5, $6, $7, $8, $9, $10, $11, $12,"
	  " coalesce($13, '')) RETURNING id" },
	/* $2 the recipient, $3... as above. The self's names are the
	 * account's (a trigger copies them): never set here. */
	{ "recipient_update",
	  "UPDATE care_recipients c SET"
	  " first_name = CASE WHEN c.kind = 'self' THEN c.first_name ELSE $3 END,"
	  " last_name = CASE WHEN c.kind = 'self' THEN c.last_name ELSE coalesce($4, '') END,"
	  " date_of_birth = $5, relationship = $6, species = $7, breed = $8, sex = $9,"
	  " neutered = $10, weight_kg = $11, microchip = $12, notes = coalesce($13, '')"
	  " FROM viewer_recipients($1) v WHERE c.id = v.id AND v.id = $2 RETURNING c.id" },
	{ "recipient_archive",
	  "UPDATE care_recipients c SET archived = $3::boolean"
	  " FROM viewer_recipients($1) v WHERE c.id = v.id AND v.id = $2 AND c.kind <> 'self'"
	  " RETURNING c.id" },
	{ NULL, NULL }
};

/* The stored columns a form may set, in the order of parameters $3... of
 * recipient_insert and recipient_update. A form without one of them
 * stores NULL there. */
static const char *const recipient_columns[] = {
	"first_name", "last_name", "date_of_birth", "relationship", "species", "breed", "sex",
	"neutered", "weight_kg", "microchip", "notes", NULL
};
#define RECIPIENT_NCOLUMNS 11

#define NOTES_FIELD \
	{ .name = "notes", .label = "the notes", .type = FT_TEXT, .flags = FIELD_MULTILINE, \
	  .max = 2000 }
#define BORN_FIELD(whose) \
	{ .name = "date_of_birth", .label = whose " date of birth", .type = FT_DATE, \
	  .flags = FIELD_PAST }

/* Yourself: the names are the account's (changed at /account). */
static const struct field self_fields[] = {
	BORN_FIELD("your"),
	NOTES_FIELD,
	{ 0 }
};

static const struct field person_fields[] = {
	PAGE_NAME_FIELDS("their"),
	{ .name = "relationship", .label = "how they are related to you", .type = FT_TEXT,
	  .max = 100 },
	BORN_FIELD("their"),
	NOTES_FIELD,
	{ 0 }
};

static const struct field_choice pet_sexes[] = {
	{ "female", "Female" },
	{ "male", "Male" },
	{ "unknown", "Not known" },
	{ NULL, NULL }
};

/* weight_kg is numeric(6,2): 0.01 to 9999.99 kg. */
static const struct field pet_fields[] = {
	{ .name = "first_name", .label = "the pet's name", .type = FT_TEXT,
	  .flags = FIELD_REQUIRED, .max = 100 },
	{ .name = "species", .label = "the species", .type = FT_TEXT, .flags = FIELD_REQUIRED,
	  .max = 100 },
	{ .name = "breed", .label = "the breed", .type = FT_TEXT, .max = 100 },
	{ .name = "sex", .label = "the sex", .type = FT_CHOICE, .flags = FIELD_REQUIRED,
	  .choices = pet_sexes },
	{ .name = "neutered", .label = "neutered", .type = FT_BOOL },
	BORN_FIELD("the pet's"),
	{ .name = "weight_kg", .label = "the weight in kg", .type = FT_DECIMAL, .scale = 2,
	  .min = 1, .max = 999999 },
	{ .name = "microchip", .label = "the microchip number", .type = FT_TEXT, .max = 50 },
	NOTES_FIELD,
	{ 0 }
};

static const struct form self_form = { self_fields };
static const struct form person_form = { person_fields };
static const struct form pet_form = { pet_fields };

/* The form of recipients of `kind` ("self", "person", "pet"), or NULL. */
static const struct form *recipient_form(const char *kind)
{
	if (kind == NULL)
		return NULL;
	if (strcmp(kind, "self") == 0)
		return &self_form;
	if (strcmp(kind, "person") == 0)
		return &person_form;
	if (strcmp(kind, "pet") == 0)
		return &pet_form;
	return NULL;
}

/* What the viewer may add, from recipients_kinds: sets *person and *pet.
 * Returns 0 or a database failure status. */
static int recipient_kinds(struct req *r, int *person, int *pet)
{
	PGresult *res = db_exec(r->db, "recipients_kinds", 1, &r->user->id);

	if (res == NULL)
		return db_failure_status(r->db);
	*person = row_bool(res, 0, "may_person");
	*pet = row_bool(res, 0, "may_pet");
	PQclear(res);
	return 0;
}

/* Sets p[2 + i] to the SQL value of recipient_columns[i] read into `d`:
 * NULL for an empty field or one the form does not have, a checkbox "t"
 * or "f". */
static void recipient_values(const struct form_data *d, const char **p)
{
	for (int i = 0; recipient_columns[i]; i++) {
		p[2 + i] = NULL;
		for (size_t f = 0; d->form->fields[f].name; f++) {
			if (strcmp(d->form->fields[f].name, recipient_columns[i]) != 0)
				continue;
			p[2 + i] = d->form->fields[f].type == FT_BOOL ?
				   (d->v[f].num ? "t" : "f") : d->v[f].sql;
		}
	}
}

/* Renders the add or edit form of a recipient of `kind`, as the view
 * holds it, with `status`: "action" is where it posts. */
static int recipient_page(struct req *r, const char *kind, const char *action,
			  const char *title, int status)
{
	struct arena *a = r->arena;

	tv_set_bool(a, r->view, "is_self", strcmp(kind, "self") == 0);
	tv_set_bool(a, r->view, "is_person", strcmp(kind, "person") == 0);
	tv_set_bool(a, r->view, "is_pet", strcmp(kind, "pet") == 0);
	tv_set_str(a, r->view, "action", action);
	tv_set_str(a, r->view, "title", title);
	return http_render_status(r, "recipient", status);
}

/* GET /account/recipients: the viewer's recipients, active ones first
 * ("active") then archived ones ("archived"), and which kinds they may
 * add ("may_person", "may_pet"). */
int page_recipients_get(struct req *r)
{
	struct arena *a = r->arena;
	int person, pet, n, active = 0, status = recipient_kinds(r, &person, &pet);
	PGresult *res;

	if (status)
		return status;
	if ((res = db_exec(r->db, "recipients_mine", 1, &r->user->id)) == NULL)
		return db_failure_status(r->db);
	n = PQntuples(res);
	while (active < n && !row_bool(res, active, "archived"))
		active++;
	tv_set(a, r->view, "active", row_list(a, res, 0, active, 0));
	tv_set(a, r->view, "archived", row_list(a, res, active, n, 0));
	tv_set_bool(a, r->view, "has_archived", active < n);
	PQclear(res);
	tv_set_bool(a, r->view, "may_person", person);
	tv_set_bool(a, r->view, "may_pet", pet);
	tv_set_bool(a, r->view, "may_add", person || pet);
	tv_set_str(a, r->view, "title", "People and pets");
	return http_render(r, "recipients");
}

/* The kind of ?kind= on /account/recipients/new ("person" or "pet"), or
 * NULL for anything else. */
static const char *recipient_new_kind(struct req *r)
{
	const char *kind = http_query(r, "kind");

	return kind && (strcmp(kind, "person") == 0 || strcmp(kind, "pet") == 0) ? kind : NULL;
}

/* Checks that the viewer may add a recipient of `kind`; if not, renders
 * the page that says why, with `refused` as its status. Returns 0 to go
 * on, the status of that page, or a database failure status. */
static int recipient_may_add(struct req *r, const char *kind, int refused)
{
	int person, pet, is_pet = strcmp(kind, "pet") == 0;
	int status = recipient_kinds(r, &person, &pet);

	if (status || (is_pet ? pet : person))
		return status;
	tv_set_str(r->arena, r->view, "refused", is_pet ?
		   "You can add a pet while you are a patient of a veterinary practice on "
		   "carebox. Join one first: your vet gives you a join code." :
		   "You can add a family member while you are a patient of a medical practice "
		   "on carebox. Join one first: your clinic gives you a join code.");
	return recipient_page(r, kind, "/account/recipients", is_pet ? "Add a pet" :
			      "Add a family member", refused);
}

/* The address the new-recipient form of `kind` posts to (arena). */
static const char *recipient_new_action(struct req *r, const char *kind)
{
	return arena_printf(r->arena, "/account/recipients/new?kind=%s", kind);
}

/* GET /account/recipients/new?kind=person|pet: the empty form; 403 with
 * the reason when the viewer may not add that kind; 404 for another kind.
 * Without ?kind= (the way back from /login keeps only the path), the
 * list, which offers the kinds. */
int page_recipient_new_get(struct req *r)
{
	const char *kind = recipient_new_kind(r);
	int status;

	if (http_query(r, "kind") == NULL)
		return http_redirect(r, "/account/recipients");
	if (kind == NULL)
		return 404;
	if ((status = recipient_may_add(r, kind, 403)))
		return status;
	form_blank(r, recipient_form(kind));
	return recipient_page(r, kind, recipient_new_action(r, kind),
			      strcmp(kind, "pet") == 0 ? "Add a pet" : "Add a family member", 200);
}

/* POST /account/recipients/new?kind=person|pet: stores the new
 * recipient and goes back to the list; the form back with 422 (a wrong
 * field, or a kind the viewer may not add). */
int page_recipient_new_post(struct req *r)
{
	const char *kind = recipient_new_kind(r), *p[2 + RECIPIENT_NCOLUMNS];
	struct form_data d = { 0 };
	PGresult *res;
	int status;

	if (kind == NULL)
		return 404;
	if ((status = recipient_may_add(r, kind, 422)))
		return status;
	if (form_read(r, recipient_form(kind), &d))
		return recipient_page(r, kind, recipient_new_action(r, kind),
				      strcmp(kind, "pet") == 0 ? "Add a pet" : "Add a family member",
				      422);
	p[0] = r->user->id;
	p[1] = kind;
	recipient_values(&d, p);
	if ((res = db_exec(r->db, "recipient_insert", 2 + RECIPIENT_NCOLUMNS, p)) == NULL)
		return db_failure_status(r->db);
	PQclear(res);
	if ((status = sess_flash(r, "ok", arena_printf(r->arena, "%s was added.",
						       form_text(&d, "first_name")))))
		return status;
	return http_redirect(r, "/account/recipients");
}

/* Loads the viewer's recipient of the path into *res (row_load: 404 for
 * anyone else's). */
static int recipient_load(struct req *r, PGresult **res)
{
	const char *p[2] = { r->user->id, r->params[0] };

	return row_load(r, "recipient_get", 2, p, 0, res);
}

/* The edit page's title for the loaded recipient `res` (arena). */
static const char *recipient_title(struct req *r, PGresult *res)
{
	return row_bool(res, 0, "is_self") ? "Your details" : row_text(r->arena, res, 0, "name");
}

/* GET /account/recipients/{id}: the edit form with the stored values. */
int page_recipient_get(struct req *r)
{
	PGresult *res;
	const char *kind, *title;
	int status = recipient_load(r, &res);

	if (status)
		return status;
	kind = row_text(r->arena, res, 0, "kind");
	title = recipient_title(r, res);
	form_fill(r, recipient_form(kind), row_view(r->arena, res, 0, 0));
	PQclear(res);
	return recipient_page(r, kind, arena_printf(r->arena, "/account/recipients/%s",
				r->params[0]), title, 200);
}

/* POST /account/recipients/{id}: stores the changes and goes back to the
 * list, or the form back with 422. */
int page_recipient_post(struct req *r)
{
	const char *kind, *title, *p[2 + RECIPIENT_NCOLUMNS];
	struct form_data d = { 0 };
	PGresult *res;
	int status = recipient_load(r, &res);

	if (status)
		return status;
	kind = row_text(r->arena, res, 0, "kind");
	title = recipient_title(r, res);
	PQclear(res);
	if (form_read(r, recipient_form(kind), &d))
		return recipient_page(r, kind, arena_printf(r->arena, "/account/recipients/%s",
					r->params[0]), title, 422);
	p[0] = r->user->id;
	p[1] = r->params[0];
	recipient_values(&d, p);
	if ((status = row_load(r, "recipient_update", 2 + RECIPIENT_NCOLUMNS, p, 0, &res)))
		return status;
	PQclear(res);
	if ((status = sess_flash(r, "ok", strcmp(kind, "self") == 0 ? "Your details were saved." :
				 arena_printf(r->arena, "The details of %s were saved.", title))))
		return status;
	return http_redirect(r, "/account/recipients");
}

/* Archives (`archived` "true") or brings back ("false") the viewer's
 * recipient of the path, then back to the list. The self stays: 422. */
static int recipient_archive(struct req *r, const char *archived)
{
	const char *p[3] = { r->user->id, r->params[0], archived }, *name;
	PGresult *res;
	int status = recipient_load(r, &res), self;

	if (status)
		return status;
	self = row_bool(res, 0, "is_self");
	name = row_text(r->arena, res, 0, "name");
	PQclear(res);
	if (self) {
		http_error(r, 422, "You cannot archive yourself: you are always among the people "
			   "you seek care for.");
		return 422;
	}
	if ((status = row_load(r, "recipient_archive", 3, p, 0, &res)))
		return status;
	PQclear(res);
	if ((status = sess_flash(r, "ok", arena_printf(r->arena, strcmp(archived, "true") == 0 ?
			"%s is archived: kept, but no longer offered." : "%s is back.", name))))
		return status;
	return http_redirect(r, "/account/recipients");
}

/* POST /account/recipients/{id}/archive */
int page_recipient_archive_post(struct req *r)
{
	return recipient_archive(r, "true");
}

/* POST /account/recipients/{id}/unarchive */
int page_recipient_unarchive_post(struct req *r)
{
	return recipient_archive(r, "false");
}
