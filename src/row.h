/* row.h - query results into template views by column name, and loading
 * the one row a viewer may see (else 404). */
#ifndef CAREBOX_ROW_H
#define CAREBOX_ROW_H

#include <libpq-fe.h>

#include "http.h"
#include "tpl.h"

/* Row `i` of `res` as a template map, from column `from` on: each column
 * under its name (so SQL names it once: `AS subject`), text copied into
 * the arena, a boolean as a boolean, an integer (int2, int4, int8) as a
 * number, a timestamptz or a date as carebox shows one (when.h: in the
 * viewer's zone, named), and SQL NULL left out (missing, as mustache's
 * false). So SQL selects a moment as it is (`m.created_at AS time`), never
 * formatted. */
struct tv *row_view(struct arena *a, PGresult *res, int i, int from);

/* Rows `first` up to (not including) `end` of `res` as a list of
 * row_view() maps, from column `from` on. */
struct tv *row_list(struct arena *a, PGresult *res, int first, int end, int from);

/* Column `name` of row `i` as an arena copy, or NULL for SQL NULL or a
 * column the result does not have. */
const char *row_text(struct arena *a, PGresult *res, int i, const char *name);

/* 1 if boolean column `name` of row `i` is true. */
int row_bool(PGresult *res, int i, const char *name);

/* Loads the one row a viewer may see: runs prepared statement `stmt`
 * with `n` parameters `p`, which reads it FROM one of the scope functions
 * of sql/0007_scopes.sql (viewer_messages, clinic_people, ...; never a
 * visibility predicate of its own), or to a secret the viewer presents (a one-time
 * link's token, matched by its hash). `binary` asks for the columns in binary (file
 * bytes). Returns 0 with the result in *res (the caller PQclear()s it),
 * 404 when there is no such row for this viewer (an unknown id and
 * another person's row look the same: never 403), or the status of a
 * database failure (*res NULL then). */
int row_load(struct req *r, const char *stmt, int n, const char *const *p, int binary,
	     PGresult **res);

/* row_load() into a view: the row as a row_view() map set in r->view
 * under `key` (NULL: its columns go straight into r->view). Returns 0,
 * 404 or an error status, as row_load(). */
int row_load_view(struct req *r, const char *stmt, int n, const char *const *p,
		  const char *key);

/* Marks "selected" (true or false) on each map of the view's list `key`
 * whose "id" equals `chosen` (NULL: none), for a <select> that keeps the
 * choice a form came back with. Returns 1 if `chosen` is NULL or in the
 * list, else 0 (a value the form never offered). */
int row_list_select(struct req *r, const char *key, const char *chosen);

/* Runs `stmt` ($1.. the `n` parameters `p`) and puts its rows, at most
 * `max` of them (0: all), as a row_list() under `key` in r->view; sets
 * *count (may be NULL) to the number of rows the statement returned, so a
 * statement asked for max + 1 tells whether there are more. Returns 0 or
 * the status of a database failure. */
int row_list_view(struct req *r, const char *stmt, int n, const char *const *p,
		  const char *key, int max, int *count);

#endif
