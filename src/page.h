/* page.h - the page handlers (one page_*.c per feature) and their SQL statements. */
#ifndef CAREBOX_PAGE_H
#define CAREBOX_PAGE_H

#include "db.h"
#include "form.h"
#include "http.h"

/* page_home.c: GET / */
int page_home(struct req *r);

/* page_health.c: GET /healthz */
extern const struct db_stmt page_health_stmts[];
int page_health(struct req *r);

/* page_login.c: /login, /logout */
extern const struct db_stmt page_login_stmts[];
int page_login_get(struct req *r);
int page_login_post(struct req *r);
/* The login page for someone whose session ended, with `notice` above the
 * form and `next` (a local path) where a login leads; answers 200. */
int page_login_again(struct req *r, const char *next, const char *notice);
int page_logout_post(struct req *r);

/* page_signup.c: /signup (patients; CAREBOX_SIGNUP=off switches it off) */
extern const struct db_stmt page_signup_stmts[];
int page_signup_open(void);
int page_signup_get(struct req *r);
int page_signup_post(struct req *r);

/* Checks the new password of a form that declares "password" (FT_PASSWORD,
 * required) and "password2" (its repetition) for this person: strong
 * enough (auth_password_problem) and typed the same twice. On a problem
 * marks "password" wrong (form_fail) and returns 0; returns 1 when the
 * password is acceptable. */
int page_new_password(struct req *r, struct form_data *d, const char *email,
		      const char *first, const char *last);

/* The fields of a new password, for a form declaration. */
#define PAGE_NEW_PASSWORD_FIELDS \
	{ .name = "password", .label = "a new password", .type = FT_PASSWORD, \
	  .flags = FIELD_REQUIRED, .max = 1024 }, \
	{ .name = "password2", .label = "the new password again", .type = FT_PASSWORD, \
	  .max = 1024 }

/* A person's names and e-mail address, for a form declaration; `whose`
 * ("your", "their", "the patient's") begins their labels. */
#define PAGE_NAME_FIELDS(whose) \
	{ .name = "first_name", .label = whose " first name", .type = FT_TEXT, \
	  .flags = FIELD_REQUIRED, .max = 100 }, \
	{ .name = "last_name", .label = whose " last name", .type = FT_TEXT, \
	  .flags = FIELD_REQUIRED, .max = 100 }
#define PAGE_EMAIL_FIELD(whose) \
	{ .name = "email", .label = whose " e-mail address", .type = FT_EMAIL, \
	  .flags = FIELD_REQUIRED, .max = 254 }

/* The fields of a new account: e-mail address, names and password. */
#define PAGE_NEW_ACCOUNT_FIELDS \
	PAGE_EMAIL_FIELD("your"), \
	PAGE_NAME_FIELDS("your"), \
	PAGE_NEW_PASSWORD_FIELDS

/* Creates the account of a form declared with PAGE_NEW_ACCOUNT_FIELDS
 * (already read into `d`): checks the password (page_new_password),
 * claims one of the client address's SIGNUP_MAX_PER_HOUR new accounts,
 * hashes the password and inserts the user, with no clinic, and sets *id;
 * queues the mail that proves the address (mail_verify). Returns 0; 422 with the form's errors set (a weak password, an e-mail
 * address that already has an account), 429 with the e-mail field's
 * error set (too many accounts from the address), or another error
 * status. */
#define SIGNUP_MAX_PER_HOUR 10
int page_new_account(struct req *r, struct form_data *d, const char **id);

/* Makes the other writers of e-mail address `email` (a signup, a change
 * on /account) wait until this request's transaction ends, so that the
 * statement after this one sees their rows. Returns 0 or an error status. */
int page_email_claim(struct req *r, const char *email);

/* A page's writes run in one transaction that the route layer opens
 * before the handler and ends after it (route.c): committed when the
 * answer is a success (below 400), rolled back on an error. A page whose
 * error answer records something that must stand (a failed login and its
 * audit entry) calls page_keep() first: then it commits all the same. */
static inline void page_keep(struct req *r)
{
	r->keep_on_error = 1;
}

/* page_account.c: /account (name, e-mail, password, log out everywhere) */
extern const struct db_stmt page_account_stmts[];
int page_account_get(struct req *r);
int page_account_post(struct req *r);
int page_account_password_post(struct req *r);
int page_account_sessions_get(struct req *r);
int page_account_sessions_post(struct req *r);
int page_account_notices_post(struct req *r);
int page_account_verify_post(struct req *r);

/* The first step of an action that is hard to undo (deactivating someone,
 * removing them from the clinic, leaving a clinic, logging out
 * everywhere), whose GET shows this page and whose POST acts: renders
 * template "confirm" with the question `question` (also the title, e.g.
 * "Deactivate Ann Lee?"), the consequences `detail`, a form with the CSRF
 * token that POSTs to `action` with the button `yes` ("Yes, deactivate"),
 * marked as a danger, and a Cancel link back to `back`. Changes nothing.
 * Returns the render's status (200). */
int page_confirm(struct req *r, const char *question, const char *detail,
		 const char *action, const char *yes, const char *back);

/* page_activity.c: /account/activity (one's own sign-ins and account changes) */
extern const struct db_stmt page_activity_stmts[];
int page_activity_get(struct req *r);

/* page_memberships.c: /account/clinics (one's clinics, acting for one, leaving) */
extern const struct db_stmt page_memberships_stmts[];
int page_memberships_get(struct req *r);
int page_memberships_act_post(struct req *r);
int page_memberships_leave_get(struct req *r);
int page_memberships_leave_post(struct req *r);
int page_memberships_request_post(struct req *r);
/* Asks the clinic of the form's "clinic" field (FT_UUID) to take account
 * `user_id` on as a patient, with the form's "date_of_birth" (also their
 * own care recipient's, if it has none), audited as the clinic's "join
 * requested"; sets *name to the clinic's. Returns 0; 422 with the form's
 * "clinic" error (unknown, already a member, already asked); or an error
 * status. */
int page_join_request(struct req *r, struct form_data *d, const char *user_id,
		      const char **name);

/* page_recipients.c: /account/recipients (the people and pets one seeks
 * care for: oneself, family members, pets) */
extern const struct db_stmt page_recipients_stmts[];
int page_recipients_get(struct req *r);
int page_recipient_new_get(struct req *r);
int page_recipient_new_post(struct req *r);
int page_recipient_get(struct req *r);
int page_recipient_post(struct req *r);
int page_recipient_archive_post(struct req *r);
int page_recipient_unarchive_post(struct req *r);

/* page_join.c: /join (a join link or its short code; joining a clinic) */
#define JOIN_CODE_LEN 10
extern const struct db_stmt page_join_stmts[];
int page_join_get(struct req *r);
int page_join_post(struct req *r);
/* Writes a new short code: JOIN_CODE_LEN letters and digits that are hard
 * to mix up, and a NUL. */
void page_join_code(char out[JOIN_CODE_LEN + 1]);
/* Makes a join link and short code of the clinic the staff member acts
 * for, valid once for 7 days, that makes the account which uses it a
 * `role` ("patient", "doctor", "admin") there; `name` and `email` (may be
 * "") are what staff typed, for the handout and the records: no account is
 * looked up. Puts the handout's values into the view (for the template
 * "handout") and audits "join link created"; sets *link_id (may be NULL)
 * to the id of the link's row (for mail_join). Returns 0 or an error
 * status (403 for staff of no clinic). */
int page_join_handout(struct req *r, const char *role, const char *name, const char *email,
		      const char **link_id);

/* page_invite.c: /invite?token=, /reset?token= and /verify?token= (one-time links) */
extern const struct db_stmt page_invite_stmts[];
int page_invite_get(struct req *r);
int page_invite_post(struct req *r);
int page_reset_get(struct req *r);
int page_reset_post(struct req *r);
int page_verify_get(struct req *r);
int page_verify_post(struct req *r);

/* page_forgot.c: /forgot ("Forgot your password?": a reset link by mail) */
extern const struct db_stmt page_forgot_stmts[];
int page_forgot_get(struct req *r);
int page_forgot_post(struct req *r);

/* page_demo.c: /demo/mail[/{id}] (the demo's mails; CAREBOX_DEMO=1 only) */
/* 1 when CAREBOX_DEMO=1 (the demo's pages answer), else 0. */
int page_demo_on(void);
int page_demo_mail_get(struct req *r);
int page_demo_mail_one_get(struct req *r);

/* Shared with page_patients.c and page_admin.c. Creates a one-time link of
 * `kind` ("invite" or "reset") for `user_id`, recorded for `clinic_id` and
 * made by the logged-in user, valid for one hour; a reset link also ends
 * every session of the user. Returns the absolute address to hand over
 * (arena), or NULL if the database failed. Only the token's hash is
 * stored. */
const char *page_link_create(struct req *r, const char *kind, const char *user_id,
			     const char *clinic_id);

/* Leaves the flash that shows `link` to the staff member who made it: what
 * it is for (`what`, e.g. "Invitation link for ann@example.org"), that no
 * e-mail is sent and that it works once within one hour. Returns 0 or an
 * error status. */
int page_link_flash(struct req *r, const char *what, const char *link);

/* The key of a one-time link page of `kind` ("reset", "invite", "join"),
 * which arrives in the link as ?`arg`=. A key in the query is moved into
 * the link cookie and the browser sent back to the bare path (303): no log
 * line, ours or nginx's, ever holds it (nginx.conf does the same before
 * carebox is asked). Returns 0 with *key the cookie's key for `kind`, or
 * NULL; or the status of the redirect made. */
int page_link_key(struct req *r, const char *kind, const char *arg, const char **key);

/* Drops the link cookie (the key was used, or opens nothing). */
void page_link_forget(struct req *r);

/* page_two_step.c: /login/code (the code after the password),
 * /account/two-step[/off|/qr] (enrolment, turning it off, the QR code) */
extern const struct db_stmt page_two_step_stmts[];
int page_login_code_get(struct req *r);
int page_login_code_post(struct req *r);
int page_two_step_get(struct req *r);
int page_two_step_post(struct req *r);
int page_two_step_off_post(struct req *r);
int page_two_step_qr_get(struct req *r);

/* For the login page, after the right password of `user_id`: 1 if the
 * person signs in with a code too; 0 if not, with *enrol_only set when
 * they must enrol first (staff of a clinic that asks for two steps); -1
 * if the database failed. */
int page_two_step_login(struct req *r, const char *user_id, int *enrol_only);

/* After `user_id` became staff with a link in this request's session
 * (join, invitation): if they must enrol and have not, restricts the
 * session to enrolment and sends them there; else redirects to `next`.
 * Returns the status of the answer. */
int page_two_step_after_link(struct req *r, const char *user_id, const char *next);

/* Starts the pending sign-in of `user_id` (5 minutes, in a cookie of its
 * own) and sends the browser to the code form; `next` is where to go
 * after. Returns the status of the answer. */
int page_two_step_begin(struct req *r, const char *user_id, const char *next);

/* page_patients.c: /patients/new (staff make a patient's join handout),
 * /patients/requests[/{id}/accept|decline] (requests to join) */
extern const struct db_stmt page_patients_stmts[];
int page_patient_new_get(struct req *r);
int page_patient_new_post(struct req *r);
int page_patient_requests_get(struct req *r);
int page_patient_accept_post(struct req *r);
int page_patient_decline_post(struct req *r);

/* page_patient.c: /patients[?q=] (the clinic's patients) and
 * /patients/{id} (a patient and the recipients the clinic cares for) */
extern const struct db_stmt page_patient_stmts[];
int page_patient_list_get(struct req *r);
int page_patient_get(struct req *r);

/* page_admin.c: /admin/users, /admin/users/{id}[/reset|/deactivate|/activate|/remove],
 * /admin/invite, /admin/audit */
extern const struct db_stmt page_admin_stmts[];
extern const struct db_stmt page_admin_audit_once[];	/* run with db_exec_once */
int page_admin_users_get(struct req *r);
int page_admin_user_get(struct req *r);
int page_admin_reset_post(struct req *r);
int page_admin_deactivate_get(struct req *r);
int page_admin_deactivate_post(struct req *r);
int page_admin_activate_post(struct req *r);
int page_admin_unpause_post(struct req *r);
int page_admin_two_step_reset_post(struct req *r);
int page_admin_remove_get(struct req *r);
int page_admin_remove_post(struct req *r);
int page_admin_invite_get(struct req *r);
int page_admin_invite_post(struct req *r);
int page_admin_audit_get(struct req *r);

/* page_clinic.c: /admin/clinic (the admin's clinic's profile), and the
 * public directory /clinics[?q=] and /clinics/{id} */
extern const struct db_stmt page_clinic_stmts[];
int page_clinic_profile_get(struct req *r);
int page_clinic_profile_post(struct req *r);
int page_clinics_get(struct req *r);
int page_clinic_get(struct req *r);

/* page_jobs.c: /admin/jobs (the clinic's background jobs) and
 * /admin/jobs/{id}/retry ("Retry now" for a failed one) */
extern const struct db_stmt page_jobs_stmts[];
int page_jobs_get(struct req *r);
int page_jobs_retry_post(struct req *r);

/* page_inbox.c: the conversation lists /inbox, /sent and /archive,
 * latest first, MSG_PAGE at a time, keyset-paged with ?before=<root id> */
extern const struct db_stmt page_inbox_stmts[];
int page_inbox_get(struct req *r);
int page_sent_get(struct req *r);
int page_archive_get(struct req *r);

/* page_message.c: composing, threads, replies, read state, archiving */
extern const struct db_stmt page_message_stmts[];
int page_message_new_get(struct req *r);
int page_message_post(struct req *r);
int page_thread_get(struct req *r);
int page_reply_post(struct req *r);
int page_unread_post(struct req *r);
int page_archive_post(struct req *r);
int page_unarchive_post(struct req *r);
/* A message form (route flag KEEPS_DRAFT) sent after its session ended
 * (r->ended_user: the session's owner; r->user is NULL): if the form
 * carries that session's CSRF token, keeps what was typed as a draft for
 * the owner and answers with the login page, which leads back to the form
 * filled in; else sends the visitor to /login. */
int page_message_keep(struct req *r);

/* page_search.c: GET /search?q= over the viewer's own messages */
extern const struct db_stmt page_search_stmts[];
extern const struct db_stmt page_search_once[];	/* run with db_exec_once */
int page_search_get(struct req *r);

#endif
