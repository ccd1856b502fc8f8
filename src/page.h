/* page.h - the page handlers (one page_*.c each) and their SQL statements. */
#ifndef CAREBOX_PAGE_H
#define CAREBOX_PAGE_H

#include "db.h"
#include "http.h"

/* page_home.c */
int page_home(struct req *r);

/* page_health.c */
extern const struct db_stmt page_health_stmts[];
int page_health(struct req *r);

#endif
