-- 0021_jobs.sql - the background job queue: work that runs outside a
-- request (src/jobs.c declares the kinds; carebox-worker, src/worker.c,
-- runs them). A request adds a job inside its own transaction, so the job
-- commits with the change that needs it or not at all; a worker claims due
-- jobs with FOR UPDATE SKIP LOCKED, so no two workers take the same one,
-- and holds each for a lease: a job whose worker died (its lease ran out)
-- is claimed again, its attempt counted.
CREATE TYPE job_state AS ENUM ('queued', 'running', 'done', 'failed', 'cancelled');

CREATE TABLE jobs (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	kind text NOT NULL CHECK (length(kind) BETWEEN 1 AND 100),
	payload jsonb NOT NULL DEFAULT '{}',
	-- The clinic whose work it is (its admins see it); NULL: a system job
	-- (prune), which admins see as counts only.
	clinic_id uuid REFERENCES clinics,
	-- At most one unfinished (queued or running) job per key: adding one
	-- while another waits or runs adds nothing.
	unique_key text CHECK (length(unique_key) BETWEEN 1 AND 200),
	state job_state NOT NULL DEFAULT 'queued',
	run_at timestamptz NOT NULL DEFAULT now(),	-- due from then (queued)
	attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),	-- claims so far
	max_attempts integer NOT NULL CHECK (max_attempts >= 1),
	locked_by text CHECK (length(locked_by) <= 200),	-- the worker running it
	lease_until timestamptz,		-- running: claimed again after this
	last_error text CHECK (length(last_error) <= 1000),	-- never personal data
	created_at timestamptz NOT NULL DEFAULT now(),
	started_at timestamptz,			-- the last claim
	finished_at timestamptz,		-- done, failed or cancelled
	CHECK ((state = 'running') = (lease_until IS NOT NULL AND locked_by IS NOT NULL))
);

-- The claim: due queued jobs, oldest first; and running jobs whose lease
-- ran out (few: one per worker at most, or a crash's).
CREATE INDEX jobs_due ON jobs (run_at) WHERE state = 'queued';
CREATE INDEX jobs_lease ON jobs (lease_until) WHERE state = 'running';
CREATE UNIQUE INDEX jobs_unique_key ON jobs (unique_key)
	WHERE state IN ('queued', 'running') AND unique_key IS NOT NULL;
-- The admin page (src/page_jobs.c): a clinic's (or the system's) jobs by
-- state and kind, the oldest queued one; its latest failures.
CREATE INDEX jobs_clinic ON jobs (clinic_id, state, run_at) INCLUDE (kind);
CREATE INDEX jobs_failed ON jobs (clinic_id, finished_at) WHERE state = 'failed';

-- The queued jobs of `kinds` due now, oldest first, at most `n`, locked for
-- the claim of src/jobs.c (FOR UPDATE SKIP LOCKED: rows another worker is
-- claiming are passed over). Always along jobs_due, whatever the
-- statistics say: a queue's table goes from empty to thousands of due jobs
-- in a moment, faster than ANALYZE follows, and with statistics that say
-- "empty" the planner would sort every due job at each claim (17 ms for
-- 20,000, against 0.1 ms). It returns one row, as the claim asks.
CREATE FUNCTION jobs_due(kinds text[], n integer) RETURNS SETOF uuid
LANGUAGE plpgsql ROWS 1 SET enable_sort = off SET enable_bitmapscan = off SET enable_seqscan = off AS $$
BEGIN
	RETURN QUERY SELECT j.id FROM jobs j WHERE j.state = 'queued' AND j.run_at <= now()
		AND j.kind = ANY(kinds) ORDER BY j.run_at LIMIT n FOR UPDATE SKIP LOCKED;
END;
$$;

-- The jobs a clinic's admins see (src/page_jobs.c loads them FROM here),
-- and the system's, of which they see counts only.
CREATE FUNCTION clinic_jobs(clinic uuid) RETURNS SETOF jobs
LANGUAGE sql STABLE AS $$
	SELECT j.* FROM jobs j WHERE j.clinic_id = clinic
$$;
CREATE FUNCTION system_jobs() RETURNS SETOF jobs
LANGUAGE sql STABLE AS $$
	SELECT j.* FROM jobs j WHERE j.clinic_id IS NULL
$$;

-- Wakes the waiting workers (LISTEN carebox_jobs) when a job is added, or
-- put back in the queue (a retry, "Retry now"): the notification names the
-- job's kind, so a worker that does not run it sleeps on. It is delivered
-- at commit, so a worker never looks for a job before it can see it; a
-- transaction rolled back sends none, and the same kind's several in one
-- transaction reach a worker as one.
CREATE FUNCTION jobs_added() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('carebox_jobs', k.kind) FROM (SELECT DISTINCT kind FROM added) k;
	RETURN NULL;
END;
$$;
CREATE TRIGGER jobs_added AFTER INSERT ON jobs REFERENCING NEW TABLE AS added
	FOR EACH STATEMENT EXECUTE FUNCTION jobs_added();
CREATE FUNCTION jobs_requeued() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('carebox_jobs', NEW.kind);
	RETURN NULL;
END;
$$;
CREATE TRIGGER jobs_requeued AFTER UPDATE OF state ON jobs
	FOR EACH ROW WHEN (NEW.state = 'queued' AND OLD.state <> 'queued')
	EXECUTE FUNCTION jobs_requeued();

-- The app adds jobs and retries failed ones (the admin page); the worker,
-- which connects as the app, claims and finishes them; prune deletes old
-- finished ones. Nothing else.
GRANT SELECT, INSERT, UPDATE, DELETE ON jobs TO carebox_app;
