/* page_invite.c - placeholder until written. */
#include "page.h"
const struct db_stmt page_invite_stmts[] = { { NULL, NULL } };
int page_invite_get(struct req *r) { (void)r; return 404; }
int page_invite_post(struct req *r) { (void)r; return 404; }
int page_reset_get(struct req *r) { (void)r; return 404; }
int page_reset_post(struct req *r) { (void)r; return 404; }
