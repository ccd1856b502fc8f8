/* page_search.c - placeholder until written. */
#include "page.h"
const struct db_stmt page_search_stmts[] = { { NULL, NULL } };
int page_search_get(struct req *r) { (void)r; return 404; }
