/* test_msg.c - the messaging core (msg.c) against a real PostgreSQL: who may
 * write to whom, auto messages, the people's names on messages, and the
 * unread counter under a random mix. */
#include <string.h>

#include "msg.h"
#include "dbtest.h"

/* Creates a user of `role` in clinic `clinic`; returns the id. */
static const char *user(const char *role, const char *clinic, const char *name)
{
	return db_user(role, clinic, name);
}

static long counter(const char *uid)
{
	return atol(q("SELECT unread_count FROM inboxes WHERE user_id = $1", 1, &uid));
}

static long real_unread(const char *uid)
{
	return atol(q("SELECT count(*) FROM messages m JOIN inboxes i ON i.id = m.inbox_id"
		      " JOIN conversation_members c ON c.user_id = i.user_id"
		      " AND c.root_id = coalesce(m.parent_id, m.id)"
		      " WHERE i.user_id = $1 AND NOT m.read AND NOT c.archived", 1, &uid));
}

static void test_rules(void)
{
	const char *pat = user("patient", "Rules Clinic", "pat");
	const char *pat2 = user("patient", "Rules Clinic", "pat2");
	const char *doc = user("doctor", "Rules Clinic", "doc");
	const char *adm = user("admin", "Rules Clinic", "adm");
	const char *far = user("doctor", "Far Clinic", "far");

	const char *rules = q("SELECT id FROM clinics WHERE name = 'Rules Clinic'", 0, NULL);
	const char *away = q("SELECT id FROM clinics WHERE name = 'Far Clinic'", 0, NULL);

	ok(msg_may_write(DB, pat, NULL, doc) == 1, "a patient may write to a doctor of their clinic");
	ok(msg_may_write(DB, pat, NULL, adm) == 1, "a patient may write to an admin of their clinic");
	ok(msg_may_write(DB, doc, rules, pat) == 1, "a doctor may write to a patient of the clinic");
	ok(msg_may_write(DB, doc, rules, adm) == 1, "staff may write to colleagues");
	ok(msg_may_write(DB, doc, away, pat) == 0, "staff write only for the clinic they act for");
	ok(msg_may_write(DB, pat, NULL, pat2) == 0, "a patient may not write to another patient");
	ok(msg_may_write(DB, pat, NULL, far) == 0, "nobody writes across clinics");
	ok(msg_may_write(DB, doc, rules, doc) == 0, "nobody writes to themself");
	{
		/* One person, a doctor at Far Clinic and a patient at Rules Clinic. */
		const char *p[2] = { far, rules };

		q("INSERT INTO memberships (user_id, clinic_id, role) VALUES ($1, $2, 'patient')"
		  " RETURNING user_id", 2, p);
		ok(msg_may_write(DB, far, away, doc) == 1, "a doctor elsewhere writes to their own doctor as a patient");
		ok(msg_may_write(DB, far, away, pat) == 0, "but not to the patients of the clinic they are a patient of");
		ok(msg_may_write(DB, doc, rules, far) == 1, "and their doctor writes to them");
		q("UPDATE memberships SET active = false, ended_at = now() WHERE user_id = $1 AND clinic_id = $2"
		  " RETURNING user_id", 2, p);
		ok(msg_may_write(DB, doc, rules, far) == 0, "an ended membership joins nobody");
	}
	{
		/* Staff invited the old way who have not set up their account: no
		 * password and perhaps no name yet. */
		const char *newdoc = user("doctor", "Rules Clinic", "newdoc");
		int more;
		struct tv *list;

		q("UPDATE users SET password_hash = NULL, first_name = '', last_name = '' WHERE id = $1"
		  " RETURNING id", 1, &newdoc);
		ok(msg_may_write(DB, pat, NULL, newdoc) == 0, "nobody writes to staff not set up yet");
		ok(msg_may_write(DB, adm, rules, newdoc) == 0, "not even their colleagues");
		list = msg_recipients(DB, A, pat, NULL, NULL, "newdoc", &more);
		ok(list && list->u.list.n == 0, "nor are they offered, by name or e-mail address");
		q("DELETE FROM memberships WHERE user_id = $1 RETURNING user_id", 1, &newdoc);
	}
	q("UPDATE users SET active = false WHERE id = $1", 1, &adm);
	ok(msg_may_write(DB, pat, NULL, adm) == 0, "nobody writes to a deactivated user");
	{
		int more;
		struct tv *list = msg_recipients(DB, A, pat, NULL, doc, NULL, &more);

		ok(list && list->u.list.n == 1 && !more, "the patient is offered exactly the one active doctor");
		list = msg_recipients(DB, A, doc, rules, NULL, "PAT2", &more);
		ok(list && list->u.list.n == 1, "find narrows the list by name, in any case");
		list = msg_recipients(DB, A, doc, rules, NULL, "nobody-like-this", &more);
		ok(list && list->u.list.n == 0, "find can match nobody");
		list = msg_recipients(DB, A, doc, away, NULL, NULL, &more);
		ok(list && list->u.list.n == 0, "staff acting for another clinic are offered nobody here");
	}
}

static void test_auto(void)
{
	const char *pat = user("patient", "Auto Clinic", "autopat");
	const char *id = msg_post_auto(DB, A, pat, "Your prescription is ready",
				       "Download it from the prescriptions page.", NULL, NULL);
	const char *root;

	ok(id != NULL, "an auto message is posted");
	is_str(q("SELECT routing::text || ' ' || (outbox_id IS NULL) FROM messages WHERE id = $1",
		 1, &id), "auto true", "it is routed auto, from no outbox");
	ok(counter(pat) == 1, "the recipient's unread count rose to 1");
	root = q("SELECT coalesce(m.parent_id, m.id) FROM viewer_messages($2) m"
		 " WHERE m.id = $1", 2, (const char *[]){ id, pat });
	ok(root != NULL && strcmp(root, id) == 0, "the recipient sees it, as its own thread");
	ok(msg_post_auto(DB, A, "00000000-0000-4000-8000-000000000000", "s", "b", NULL, NULL) == NULL,
	   "posting to nobody stores nothing");
}

/* The names a message carries (sql/0005) are its people's current display
 * names: taken when it is stored, rewritten when a name or address changes,
 * and never settable by hand. */
static void test_names(void)
{
	const char *doc = user("doctor", "Names Clinic", "Nadia");
	const char *pat = user("patient", "Names Clinic", "Paul");
	struct msg_new m = { .sender_id = pat, .recipient_id = doc,
			     .subject = "Names", .body = "Who am I?" };
	const char *id = msg_post(DB, A, &m), *names, *aut;
	const char *np[2] = { pat, doc };

	names = "SELECT sender_name || ' -> ' || recipient_name FROM messages WHERE id = $1";
	ok(id != NULL, "a message is posted");
	is_str(q(names, 1, &id), "Paul Test -> Nadia Test", "it carries both people's names");
	q("UPDATE users SET first_name = 'Paula', last_name = 'Rossi' WHERE id = $1", 1, &np[0]);
	q("UPDATE users SET first_name = '', last_name = '', email = 'nadia@names.test'"
	  " WHERE id = $1", 1, &np[1]);
	is_str(q(names, 1, &id), "Paula Rossi -> nadia@names.test",
	       "renaming the sender and clearing the recipient's name updates the copies");
	q("UPDATE messages SET sender_name = 'Someone Else', recipient_name = 'x' WHERE id = $1", 1, &id);
	is_str(q(names, 1, &id), "Paula Rossi -> nadia@names.test", "a copy cannot be set by hand");
	aut = msg_post_auto(DB, A, pat, "Auto", "From carebox.", NULL, NULL);
	is_str(q("SELECT coalesce(sender_name, 'none') || ' -> ' || recipient_name FROM messages"
		 " WHERE id = $1", 1, &aut), "none -> Paula Rossi", "an auto message has no sender name");
}

/* The counter stays equal to a real count through a seeded random mix of
 * every operation that changes it. */
static void test_counter(void)
{
	const char *u[4] = {
		user("doctor", "Count Clinic", "c0"), user("doctor", "Count Clinic", "c1"),
		user("patient", "Count Clinic", "c2"), user("admin", "Count Clinic", "c3"),
	};
	const char *mine[400];
	const char *owner[400];
	int n = 0, drift = 0;

	srand(42);
	for (int step = 0; step < 600; step++) {
		int op = rand() % 6, a = rand() % 4, b = (a + 1 + rand() % 3) % 4;
		const char *root;

		if (op == 0 || n == 0) {
			struct msg_new m = { u[a], u[b], NULL, "subject", "body", NULL, NULL };

			if (n < 400 && (mine[n] = msg_post(DB, A, &m)))
				owner[n++] = u[b];
			continue;
		}
		int k = rand() % n;

		root = q("SELECT coalesce(m.parent_id, m.id) FROM viewer_messages($2) m"
			 " WHERE m.id = $1", 2,
			 (const char *[]){ mine[k], owner[k] });
		if (root == NULL)
			continue;
		if (op == 1)
			msg_read_thread(DB, owner[k], root);
		else if (op == 2)
			msg_mark_unread(DB, owner[k], root);
		else if (op == 3 || op == 4)
			msg_archive_thread(DB, owner[k], root, op == 3);
		else if (n < 400) {
			const char *from = owner[k];
			const char *to = strcmp(q("SELECT i.user_id::text FROM messages m JOIN inboxes i"
						  " ON i.id = m.inbox_id WHERE m.id = $1", 1, &root), from)
				? q("SELECT i.user_id::text FROM messages m JOIN inboxes i"
				    " ON i.id = m.inbox_id WHERE m.id = $1", 1, &root)
				: q("SELECT o.user_id::text FROM messages m JOIN outboxes o"
				    " ON o.id = m.outbox_id WHERE m.id = $1", 1, &root);
			struct msg_new m = { from, to, root, NULL, "a reply", NULL, NULL };

			if ((mine[n] = msg_post(DB, A, &m)))
				owner[n++] = to;
		}
	}
	for (int i = 0; i < 4; i++)
		drift += counter(u[i]) != real_unread(u[i]);
	ok(n > 100, "the mix sent %d messages", n);
	ok(drift == 0, "every unread_count equals a real count after 600 random operations");
	ok(msg_mark_unread(DB, u[0], mine[0]) == (strcmp(owner[0], u[0]) == 0),
	   "mark unread works only for the recipient");
}

int main(void)
{
	if (dbtest_start() < 0)
		return 1;
	test_rules();
	test_auto();
	test_names();
	test_counter();
	dbtest_end();
	return tap_done();
}
