/* row.c - query results into template views by column name, and loading
 * the one row a viewer may see (else 404). */
#include "row.h"

#include <stdlib.h>
#include <string.h>

#include "when.h"

/* PostgreSQL's type oids (pg_type.dat) of the columns row_view converts. */
#define OID_BOOL 16
#define OID_INT8 20
#define OID_INT2 21
#define OID_INT4 23
#define OID_DATE 1082
#define OID_TIMESTAMPTZ 1184

struct tv *row_view(struct arena *a, PGresult *res, int i, int from)
{
	struct tv *m = tv_map(a);
	int n = PQnfields(res);

	for (int c = from; c < n; c++) {
		const char *name = arena_strdup(a, PQfname(res, c));
		const char *v = PQgetvalue(res, i, c);

		if (PQgetisnull(res, i, c))
			continue;
		switch (PQftype(res, c)) {
		case OID_BOOL:
			tv_set_bool(a, m, name, v[0] == 't');
			break;
		case OID_INT2:
		case OID_INT4:
		case OID_INT8:
			tv_set_num(a, m, name, strtod(v, NULL));
			break;
		case OID_TIMESTAMPTZ:
			tv_set_str(a, m, name, when_moment(a, v));
			break;
		case OID_DATE:
			tv_set_str(a, m, name, when_date(a, v));
			break;
		default:
			tv_set(a, m, name, tv_strn(a, arena_strndup(a, v, (size_t)PQgetlength(res, i, c)),
						   (size_t)PQgetlength(res, i, c)));
		}
	}
	return m;
}

struct tv *row_list(struct arena *a, PGresult *res, int first, int end, int from)
{
	struct tv *list = tv_list(a);

	for (int i = first; i < end; i++)
		tv_push(a, list, row_view(a, res, i, from));
	return list;
}

const char *row_text(struct arena *a, PGresult *res, int i, const char *name)
{
	int c = PQfnumber(res, name);

	if (c < 0 || PQgetisnull(res, i, c))
		return NULL;
	return arena_strdup(a, PQgetvalue(res, i, c));
}

int row_bool(PGresult *res, int i, const char *name)
{
	int c = PQfnumber(res, name);

	return c >= 0 && !PQgetisnull(res, i, c) && PQgetvalue(res, i, c)[0] == 't';
}

int row_load(struct req *r, const char *stmt, int n, const char *const *p, int binary,
	     PGresult **res)
{
	*res = db_exec_binary(r->db, stmt, n, p, NULL, NULL, binary);
	if (*res == NULL)
		return db_failure_status(r->db);
	if (PQntuples(*res) != 1) {
		PQclear(*res);
		*res = NULL;
		return 404;
	}
	return 0;
}

int row_load_view(struct req *r, const char *stmt, int n, const char *const *p,
		  const char *key)
{
	PGresult *res;
	int status = row_load(r, stmt, n, p, 0, &res);
	struct tv *m;

	if (status)
		return status;
	m = row_view(r->arena, res, 0, 0);
	PQclear(res);
	if (key) {
		tv_set(r->arena, r->view, key, m);
	} else {
		for (size_t k = 0; k < m->u.map.n; k++)
			tv_set(r->arena, r->view, m->u.map.pairs[k].key, m->u.map.pairs[k].val);
	}
	return 0;
}

int row_list_view(struct req *r, const char *stmt, int n, const char *const *p,
		  const char *key, int max, int *count)
{
	PGresult *res = db_exec(r->db, stmt, n, p);
	int rows;

	if (res == NULL)
		return db_failure_status(r->db);
	rows = PQntuples(res);
	tv_set(r->arena, r->view, key,
	       row_list(r->arena, res, 0, max > 0 && rows > max ? max : rows, 0));
	PQclear(res);
	if (count)
		*count = rows;
	return 0;
}

int row_list_select(struct req *r, const char *key, const char *chosen)
{
	struct tv *list = tv_get(r->view, key), *id;
	int found = chosen == NULL, hit;

	if (list == NULL || list->kind != TV_LIST)
		return found;
	for (size_t i = 0; i < list->u.list.n; i++) {
		id = tv_get(list->u.list.items[i], "id");
		hit = chosen && id && id->kind == TV_STR && strcmp(id->u.str.s, chosen) == 0;
		tv_set_bool(r->arena, list->u.list.items[i], "selected", hit);
		found |= hit;
	}
	return found;
}
