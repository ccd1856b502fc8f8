/* pay.h - payment providers: one interface (charge, refund) behind which the simulator (src/pay_sim.c) and any real gateway sit. */
#ifndef CAREBOX_PAY_H
#define CAREBOX_PAY_H

#include "arena.h"
#include "db.h"

/* What a provider answers. */
enum pay_result {
	PAY_APPROVED,	/* money moved: text is the provider's reference */
	PAY_DECLINED,	/* a definite no (the card was declined): text is why */
	PAY_ERROR	/* no answer (a timeout, the gateway down): nothing moved, text is
			 * why; the same idempotency key may be tried again */
};

struct pay_answer {
	enum pay_result result;
	const char *text;	/* the reference, or the reason in a few plain words that
				 * hold no personal data (the patient and the clinic's
				 * admins read it); in the caller's arena or static */
	int replayed;		/* 1: the provider's earlier answer to the same key (or,
				 * for a refund, the same reference): nothing moved now */
};

/* One provider. Both calls run in a worker's job, with `db` the worker's
 * connection and no transaction open on it (a provider that keeps its
 * state in the database, as the simulator does, commits there; a real
 * gateway does not touch it), strings in arena `a`, and never fail: a
 * failure is a PAY_ERROR answer. Amounts are decimal text ("9.50", as
 * PostgreSQL's numeric prints it), never floating point. `merchant` is
 * the clinic's id: the account the money goes to. */
struct pay_provider {
	const char *name;	/* stored in payments.provider */
	/* Charges `amount` `currency` under idempotency key `key`: a key the
	 * provider answered before (approved or declined) gets that answer
	 * again and moves no money; after an error, the key may be tried
	 * again. */
	void (*charge)(struct db *db, struct arena *a, const char *merchant, const char *amount,
		       const char *currency, const char *key, struct pay_answer *out);
	/* Refunds the charge with reference `reference` in full, at most once
	 * however often it is asked (a repeat is a replay). */
	void (*refund)(struct db *db, struct arena *a, const char *merchant, const char *reference,
		       struct pay_answer *out);
};

/* The simulator (src/pay_sim.c), named "sim". */
extern const struct pay_provider pay_sim;

/* The provider named `name`, or NULL. */
const struct pay_provider *pay_find(const char *name);

/* The provider new payments use: CAREBOX_PAY_PROVIDER, default "sim".
 * A payment keeps the provider it started with. */
const char *pay_default(void);

#endif
