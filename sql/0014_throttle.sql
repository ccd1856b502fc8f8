-- 0014_throttle.sql - throttling that cannot be raced or abused
-- (src/throttle.c): growing pauses per account instead of a lock-out of a
-- whole address, and per-address counts claimed before the work.

-- How long logging in to the account `account` (an e-mail address, known
-- or not) is paused: from its fifth wrong password in a day (since its
-- last login) 1 minute after the last one, doubling with each further
-- one, at most 15 minutes. NULL when it is not paused. The one statement
-- of the rule: the login form and the admin's user page both ask it.
CREATE FUNCTION login_paused_until(account text) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
	SELECT CASE WHEN count(*) >= 5 THEN max(at) + least(interval '15 minutes',
		interval '1 minute' * 2 ^ (count(*) - 5)) END
	FROM login_failures
	WHERE lower(email) = lower(account) AND at > now() - interval '1 day'
$$;

-- Per client address and kind ('signup', 'join key'): how many in the
-- window that began at `since`. A request claims one (n + 1, in one
-- statement that locks the row) before it does the work, so two requests
-- at once cannot both take the last one.
CREATE TABLE address_counts (
	kind text NOT NULL,
	address text NOT NULL,
	since timestamptz NOT NULL DEFAULT now(),
	n integer NOT NULL DEFAULT 0,
	PRIMARY KEY (kind, address)
);
CREATE INDEX address_counts_since ON address_counts (since);

-- Replaced by address_counts (kind 'join key').
DROP TABLE join_failures;
