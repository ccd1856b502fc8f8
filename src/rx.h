/* rx.h - prescriptions: a patient's request, its payment (the charge and refund jobs), the manual retry, cancelling, a doctor's approval or decline. */
#ifndef CAREBOX_RX_H
#define CAREBOX_RX_H

#include "arena.h"
#include "db.h"
#include "jobs.h"

#define RX_CHARGE_ATTEMPTS 3		/* answered charge attempts per payment */
#define RX_RETRY_MS 10000		/* between them: CAREBOX_PAY_RETRY_MS */
#define RX_MEDICATIONS_MAX 20		/* medications in one request */

/* What the functions below answer. */
enum rx_outcome {
	RX_FAILED = -1,		/* the database failed (logged): roll back */
	RX_REFUSED = 0,		/* not in a state (or shape) that allows it: *why says so */
	RX_DONE = 1,
	RX_NOT_FOUND = 2	/* no such prescription for this person: a 404 */
};

extern const struct db_stmt rx_stmts[];

/* A patient's request, as rx_request() takes it: either medications on
 * file (their ids) or something new in the patient's own words. */
struct rx_new {
	const char *clinic_id;
	const char *recipient_id;
	const char *user_id;			/* the patient asking */
	const char *const *medication_ids;	/* n_medications ids */
	int n_medications;
	const char *request_text;		/* NULL or "" for a repeat request */
};

/* Each function below runs on `db` inside the transaction open there (a
 * POST's: src/route.c), which the caller commits or, on RX_FAILED, rolls
 * back; each locks the prescription first, so two presses at once are
 * one after the other and the second is refused by the state the first
 * left. `why` (may be NULL) gets, with RX_REFUSED, a sentence for the
 * person who asked (static). Auto messages go to the requester's inbox in
 * the same transaction (msg_post_auto), linked to the prescription. None
 * writes the audit log: the page that calls it does. */

/* Adds the request `r`: the prescription (the clinic's fee and currency
 * at this moment), its items copied from the medications (each the
 * recipient's at that clinic, active, with repeats left) and, for a fee,
 * its payment (a fresh idempotency key, the provider of pay_default()) and
 * the payment.charge job; a zero fee goes straight to "awaiting approval"
 * (its auto message). Refused: a recipient that is not the patient's or
 * that the clinic does not care for (not an active patient there, archived),
 * a medication that does not qualify, none or both of medications and
 * words, more than RX_MEDICATIONS_MAX. Returns RX_DONE with the new id in
 * `id`, RX_REFUSED or RX_FAILED. */
int rx_request(struct db *db, struct arena *a, const struct rx_new *r, char id[JOB_ID_LEN + 1],
	       const char **why);

/* The patient `user_id` presses "Retry payment" on prescription `rx_id`
 * (theirs): only from "payment failed"; a new payment (a new key, a new
 * series of attempts) and its charge job; the prescription goes to
 * "payment processing". Returns RX_DONE, RX_REFUSED, RX_NOT_FOUND or
 * RX_FAILED. */
int rx_retry_payment(struct db *db, struct arena *a, const char *rx_id, const char *user_id,
		     const char **why);

/* The patient `user_id` cancels prescription `rx_id` (theirs): only from
 * "requested" (its charge job then charges nothing) or "payment failed".
 * Returns RX_DONE, RX_REFUSED, RX_NOT_FOUND or RX_FAILED. */
int rx_cancel(struct db *db, struct arena *a, const char *rx_id, const char *user_id,
	      const char **why);

/* Doctor `doctor_id`, acting for `clinic_id` (the route table lets only
 * its doctors come), approves prescription `rx_id` of that clinic: only
 * from "awaiting approval" and with every item filled in; it becomes
 * "ready" (decided and issued now), each repeat medication's repeats_left
 * goes down by one, and the patient is told. (The PDF is a later part's,
 * made in the same transaction.) Two approvals at once: the second is
 * refused ("already issued"). Returns RX_DONE, RX_REFUSED, RX_NOT_FOUND or
 * RX_FAILED. */
int rx_approve(struct db *db, struct arena *a, const char *rx_id, const char *doctor_id,
	       const char *clinic_id, const char **why);

/* As rx_approve(), but declines with `reason` (1 to 1000 characters):
 * "declined", the patient told why, and an approved payment refunded by a
 * payment.refund job (one per payment, whatever happens). */
int rx_decline(struct db *db, struct arena *a, const char *rx_id, const char *doctor_id,
	       const char *clinic_id, const char *reason, const char **why);

/* The payment.charge job (payload {"payment_id"}): one attempt at the
 * payment's charge under its idempotency key, recorded before (the
 * attempt) and after (its answer) in transactions of their own, the
 * provider called with none open. Approved: "awaiting approval". Declined
 * or an error: a retry after CAREBOX_PAY_RETRY_MS (default RX_RETRY_MS),
 * until RX_CHARGE_ATTEMPTS answers (or the job's last run), then "payment
 * failed" (the job fails with the reason). An attempt whose worker died
 * before the answer is asked again under the same number and key. A
 * payment already settled, or cancelled before its first attempt, is left
 * alone. */
enum job_outcome rx_charge_job(struct job *j);

/* The payment.refund job (payload {"payment_id"}): refunds an approved
 * payment once ("refunded", a timeline row); one already refunded is left
 * alone. A declined refund fails the job (the admins' jobs page shows it),
 * an error retries. */
enum job_outcome rx_refund_job(struct job *j);

#endif
