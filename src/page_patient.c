/* page_patient.c - staff read their clinic's patients: /patients (the
 * list, ?q= to find one) and /patients/{id} (a patient's page: who they
 * are and whom they seek care for). */
#include "page.h"

#include <string.h>

#include "audit.h"
#include "row.h"
#include "sess.h"

#define PATIENTS_MAX 200	/* patients the list shows; ?q= finds the others */

/* $1 is always the staff member's clinic (the one they act for): a
 * patient is seen only through clinic_patients() and their recipients
 * only through clinic_recipients() (sql/0012_recipients.sql), so anyone
 * else, and a patient who left, is a 404. */
const struct db_stmt page_patient_stmts[] = {
	/* strpos, not LIKE: % and _ are just characters; "" matches all. */
	{ "patients_list",
	  "SELECT u.id, display_name(u.first_name, u.last_name, u.email) AS name,"
	  " m.created_at AS since"
	  " FROM clinic_patients($1) u JOIN memberships m ON m.clinic_id = $1 AND m.user_id = u.id"
	  " WHERE strpos(lower(u.first_name || ' ' || u.last_name || ' ' || u.email), lower($2)) > 0"
	  " ORDER BY lower(u.last_name), lower(u.first_name), u.id LIMIT 201" },
	{ "patient_get",
	  "SELECT u.id, display_name(u.first_name, u.last_name, u.email) AS name, u.email,"
	  " m.created_at AS since, u.active"
	  " FROM clinic_patients($1) u JOIN memberships m ON m.clinic_id = $1 AND m.user_id = u.id"
	  " WHERE u.id = $2" },
	/* The patient ($2) first, then their family or pets, by name. */
	{ "patient_recipients",
	  "SELECT r.id, coalesce(nullif(btrim(r.first_name || ' ' || r.last_name), ''),"
	  " 'The patient') AS name, r.kind = 'self' AS is_self, r.kind = 'person' AS is_person,"
	  " r.kind = 'pet' AS is_pet, r.date_of_birth AS born,"
	  " r.relationship, r.species, r.breed,"
	  " nullif(r.sex, 'unknown') AS sex,"
	  " r.neutered, r.weight_kg::text AS weight_kg, r.microchip, nullif(r.notes, '') AS notes"
	  " FROM clinic_recipients($1) r WHERE r.owner_id = $2 AND NOT r.archived"
	  " ORDER BY r.kind <> 'self', lower(r.first_name), lower(r.last_name), r.id" },
	{ NULL, NULL }
};

static const struct field patients_search_fields[] = {
	{ .name = "q", .label = "your search", .type = FT_TEXT, .max = 100 },
	{ 0 }
};
static const struct form patients_search_form = { patients_search_fields };

/* GET /patients[?q=]: the clinic's patients whose name or e-mail address
 * contains q (all without q), by last name, at most PATIENTS_MAX:
 * "patients" [{id, name, since}], "more" when there are others. */
int page_patient_list_get(struct req *r)
{
	struct form_data d = { 0 };
	const char *p[2] = { r->user->clinic_id, NULL };
	int n, status;

	tv_set_str(r->arena, r->view, "title", "Patients");
	if (r->user->clinic_id == NULL)
		return 403;
	if (form_read(r, &patients_search_form, &d))
		return http_render_status(r, "patients", 400);
	p[1] = form_text(&d, "q");
	if ((status = row_list_view(r, "patients_list", 2, p, "patients", PATIENTS_MAX, &n)))
		return status;
	tv_set_bool(r->arena, r->view, "none", n == 0);
	tv_set_bool(r->arena, r->view, "more", n > PATIENTS_MAX);
	tv_set_bool(r->arena, r->view, "searched", *p[1] != '\0');
	return http_render(r, "patients");
}

/* GET /patients/{id}: a patient of the clinic: name, e-mail address,
 * patient since, and the recipients the clinic cares for ("recipients":
 * themselves and family at a medical practice, pets at a veterinary one),
 * with their notes. Anyone else is a 404. Recorded in the audit log
 * (the notes are health data): "patient page viewed". */
int page_patient_get(struct req *r)
{
	const char *p[2] = { r->user->clinic_id, r->params[0] };
	int n, status;

	if (r->user->clinic_id == NULL)
		return 403;
	if ((status = row_load_view(r, "patient_get", 2, p, "patient")))
		return status;
	if ((status = row_list_view(r, "patient_recipients", 2, p, "recipients", 0, &n)))
		return status;
	tv_set_bool(r->arena, r->view, "has_recipients", n > 0);
	if ((status = audit(r, "patient page viewed", r->user->clinic_id, r->params[0], NULL)))
		return status;
	tv_set(r->arena, r->view, "title", tv_get(tv_get(r->view, "patient"), "name"));
	return http_render(r, "patient");
}
