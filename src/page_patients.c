/* page_patients.c - placeholder until written. */
#include "page.h"
const struct db_stmt page_patients_stmts[] = { { NULL, NULL } };
int page_patient_new_get(struct req *r) { (void)r; return 404; }
int page_patient_new_post(struct req *r) { (void)r; return 404; }
