/* throttle.h - how often someone may try: passwords per account and per
 * client address, signups and join keys per client address. Every claim
 * is made before the work it guards (a password hash, a key lookup), in a
 * way two requests at once cannot both pass (throttle.c says how). */
#ifndef CAREBOX_THROTTLE_H
#define CAREBOX_THROTTLE_H

#include "db.h"
#include "http.h"

/* Wrong passwords from one client address in 15 minutes, across all
 * accounts, before the address must wait: high, so that a practice's front
 * desk, a care home or a household behind one address is never shut out
 * by one person. */
#define THROTTLE_ADDRESS_MAX 100

enum throttle_verdict {
	THROTTLE_OK,
	THROTTLE_BUSY,		/* another attempt for the account is being checked */
	THROTTLE_PAUSED,	/* the account's pause (growing with its failures) */
	THROTTLE_ADDRESS,	/* the client address reached THROTTLE_ADDRESS_MAX */
};

extern const struct db_stmt throttle_stmts[];

/* Claims a password check for the account `email` (known or not), and
 * when `by_address` (the login form; not /account) for the request's
 * client address. Runs inside the page's transaction, whose end releases
 * the claim. Returns a verdict, with *minutes the pause left when
 * THROTTLE_PAUSED, or -1 if the database failed. */
int throttle_password(struct req *r, const char *email, int by_address, long *minutes);

/* Records a wrong password for `email` (and the client address when
 * `by_address`); the page must keep it (page_keep). Returns 0 or the
 * status of a database failure. */
int throttle_password_failed(struct req *r, const char *email, int by_address);

/* Forgets the wrong passwords of `email`: after a login, or when an admin
 * lifts the pause. Returns 0 or the status of a database failure. */
int throttle_password_clear(struct req *r, const char *email);

/* Claims one `kind` event ("signup", "join key") for the client address,
 * of at most `max` in `window` (an SQL interval, "1 hour"). Returns 0,
 * 429 when none is left, or the status of a database failure. In a POST
 * the claim is undone with the page's transaction when the answer is an
 * error, unless the page keeps it (page_keep). */
int throttle_address(struct req *r, const char *kind, int max, const char *window);

/* throttle_address() for a `key` of the page's choosing instead of the
 * client address: an e-mail address typed, an account's id. */
int throttle_key(struct req *r, const char *kind, const char *key, int max, const char *window);

/* Gives back a claim of throttle_address() (the key worked: only failures
 * count). Returns 0 or the status of a database failure. */
int throttle_address_refund(struct req *r, const char *kind);

#endif
