/* test_when.c - moments and dates as carebox shows them: in the viewer's
 * zone, named, right on both sides of a daylight-saving change. */
#include "arena.h"
#include "tap.h"
#include "when.h"

static struct arena *A;

/* when_moment of `pg` in `zone`, compared with `want`. */
static void moment(const char *zone, const char *pg, const char *want, const char *what)
{
	when_zone(zone);
	is_str(when_moment(A, pg), want, what);
}

int main(void)
{
	A = arena_new(4096);
	moment("Europe/London", "2026-07-01 12:00:00+00", "01 Jul 2026 13:00 BST", "London in summer");
	moment("Europe/London", "2026-12-01 12:00:00.123456+00", "01 Dec 2026 12:00 GMT",
	       "London in winter (fractions of a second dropped)");
	moment("America/New_York", "2026-07-01 12:00:00+00", "01 Jul 2026 08:00 EDT", "New York in summer");
	moment("America/New_York", "2026-12-01 12:00:00+00", "01 Dec 2026 07:00 EST", "New York in winter");
	/* The clocks go back at 02:00 BST on 25 Oct 2026: 01:30 happens twice. */
	moment("Europe/London", "2026-10-25 00:30:00+00", "25 Oct 2026 01:30 BST", "the first 01:30");
	moment("Europe/London", "2026-10-25 01:30:00+00", "25 Oct 2026 01:30 GMT", "the second 01:30");
	moment("Asia/Kolkata", "2026-12-07 20:45:00+05:30", "07 Dec 2026 20:45 IST", "an offset with minutes");
	moment("UTC", "2026-12-07 20:45:00-08", "08 Dec 2026 04:45 UTC", "a negative offset");
	moment(NULL, "2026-12-07 20:45:00+00", "07 Dec 2026 20:45 UTC", "no zone: UTC");
	moment("UTC", "infinity", "infinity", "text that is not a moment stays as it is");
	moment("UTC", "2026-12-07 20:45:00", "2026-12-07 20:45:00", "a moment without offset stays");
	is_str(when_date(A, "2026-02-28"), "28 Feb 2026", "a date");
	is_str(when_date(A, "2026-02-28x"), "2026-02-28x", "not a date stays as it is");
	arena_free(A);
	return tap_done();
}
