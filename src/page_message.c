/* page_message.c - placeholder until written. */
#include "page.h"
const struct db_stmt page_message_stmts[] = { { NULL, NULL } };
int page_message_new_get(struct req *r) { (void)r; return 404; }
int page_message_post(struct req *r) { (void)r; return 404; }
int page_thread_get(struct req *r) { (void)r; return 404; }
int page_reply_post(struct req *r) { (void)r; return 404; }
int page_unread_post(struct req *r) { (void)r; return 404; }
int page_archive_post(struct req *r) { (void)r; return 404; }
int page_unarchive_post(struct req *r) { (void)r; return 404; }
