/* stmts.c - prints every statement carebox runs, one per line as
 * name<TAB>sql (newlines and tabs in the SQL become spaces), then those it
 * runs unprepared (db_exec_once) as name<TAB>sql<TAB>once, so that
 * bench/explain.sh explains exactly the text the app runs. */
#include <stdio.h>

#include "route.h"

static void print_set(const struct db_stmt *const *sets, const char *tag)
{
	for (const struct db_stmt *const *set = sets; *set; set++)
		for (const struct db_stmt *st = *set; st->name; st++) {
			printf("%s\t", st->name);
			for (const char *c = st->sql; *c; c++)
				putchar(*c == '\n' || *c == '\t' || *c == '\r' ? ' ' : *c);
			printf("%s\n", tag);
		}
}

int main(void)
{
	print_set(route_stmts, "");
	print_set(route_once_stmts, "\tonce");
	return ferror(stdout) ? 1 : 0;
}
