/* page_account.c - placeholder until written. */
#include "page.h"
const struct db_stmt page_account_stmts[] = { { NULL, NULL } };
int page_account_get(struct req *r) { (void)r; return 404; }
int page_account_post(struct req *r) { (void)r; return 404; }
int page_account_password_post(struct req *r) { (void)r; return 404; }
int page_account_sessions_post(struct req *r) { (void)r; return 404; }
