/* stmts.c - prints every statement carebox prepares, one per line as
 * name<TAB>sql (newlines and tabs in the SQL become spaces), so that
 * bench/explain.sh explains exactly the text the app runs. */
#include <stdio.h>

#include "route.h"

int main(void)
{
	for (const struct db_stmt *const *set = route_stmts; *set; set++)
		for (const struct db_stmt *st = *set; st->name; st++) {
			printf("%s\t", st->name);
			for (const char *c = st->sql; *c; c++)
				putchar(*c == '\n' || *c == '\t' || *c == '\r' ? ' ' : *c);
			putchar('\n');
		}
	return ferror(stdout) ? 1 : 0;
}
