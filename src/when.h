/* when.h - how carebox shows a moment or a date: one format everywhere,
 * in the viewer's time zone, naming the zone ("07 Dec 2026 20:45 GMT"). */
#ifndef CAREBOX_WHEN_H
#define CAREBOX_WHEN_H

#include "arena.h"

/* Makes `zone` (an IANA name such as "Europe/London"; NULL or "" means
 * UTC) the zone when_moment() shows times in, until the next call. The
 * session sets it for each request (sess.c); the process's TZ follows. */
void when_zone(const char *zone);

/* The moment `pg` (PostgreSQL's text of a timestamptz in DateStyle ISO,
 * "2026-12-07 20:45:35.123456+00", any offset) as "07 Dec 2026 20:45 GMT"
 * in the zone of when_zone(), the zone's abbreviation for that moment
 * (summer or winter time). Text it cannot read comes back as it is.
 * Allocated in `a`. */
const char *when_moment(struct arena *a, const char *pg);

/* The date `pg` ("2026-12-07") as "07 Dec 2026". Text it cannot read
 * comes back as it is. Allocated in `a`. */
const char *when_date(struct arena *a, const char *pg);

#endif
