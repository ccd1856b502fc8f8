/* page_admin.c - placeholder until written. */
#include "page.h"
const struct db_stmt page_admin_stmts[] = { { NULL, NULL } };
int page_admin_users_get(struct req *r) { (void)r; return 404; }
int page_admin_user_get(struct req *r) { (void)r; return 404; }
int page_admin_reset_post(struct req *r) { (void)r; return 404; }
int page_admin_deactivate_post(struct req *r) { (void)r; return 404; }
int page_admin_activate_post(struct req *r) { (void)r; return 404; }
int page_admin_invite_get(struct req *r) { (void)r; return 404; }
int page_admin_invite_post(struct req *r) { (void)r; return 404; }
int page_admin_audit_get(struct req *r) { (void)r; return 404; }
