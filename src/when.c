/* when.c - how carebox shows a moment or a date: one format everywhere,
 * in the viewer's time zone, naming the zone ("07 Dec 2026 20:45 GMT"). */
#include "when.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WHEN_MOMENT "%d %b %Y %H:%M %Z"
#define WHEN_DATE "%d %b %Y"

/* The zone asked for (when_zone) and the one the process's TZ holds: TZ
 * changes only when a moment is shown in another zone than the last one
 * (tzset() reads the zone's file), so a worker serving one clinic loads
 * its zone once. */
static char wanted_zone[128] = "UTC";
static char applied_zone[128] = "";

void when_zone(const char *zone)
{
	if (zone == NULL || *zone == '\0' || strlen(zone) >= sizeof(wanted_zone))
		zone = "UTC";
	snprintf(wanted_zone, sizeof(wanted_zone), "%s", zone);
}

/* Makes the wanted zone the process's TZ, if it is not already. Workers
 * are single-threaded: the process's TZ is the viewer's. */
static void apply_zone(void)
{
	if (strcmp(wanted_zone, applied_zone) == 0)
		return;
	memcpy(applied_zone, wanted_zone, sizeof(applied_zone));
	setenv("TZ", applied_zone, 1);
	tzset();
}

/* Reads exactly `n` digits at *s into *out and moves *s past them;
 * returns 0, or -1 (and *s unmoved) if they are not there. */
static int digits(const char **s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if ((*s)[i] < '0' || (*s)[i] > '9')
			return -1;
		v = v * 10 + ((*s)[i] - '0');
	}
	*s += n;
	*out = v;
	return 0;
}

/* Reads `sep` at *s and moves past it; returns 0, or -1 if it is not there. */
static int expect(const char **s, char sep)
{
	if (**s != sep)
		return -1;
	(*s)++;
	return 0;
}

/* Reads "YYYY-MM-DD" at s into *t (the date fields); returns the rest, or
 * NULL if s does not start with a date. */
static const char *read_date(const char *s, struct tm *t)
{
	if (digits(&s, 4, &t->tm_year) || expect(&s, '-') || digits(&s, 2, &t->tm_mon) ||
	    expect(&s, '-') || digits(&s, 2, &t->tm_mday))
		return NULL;
	t->tm_year -= 1900;
	t->tm_mon -= 1;
	return s;
}

/* Reads "+HH[:MM[:SS]]" or "-..." at s into seconds east of UTC; returns
 * 0, or -1 if it is not an offset that ends the text. */
static int read_offset(const char *s, long *east)
{
	int h, m = 0, sec = 0;
	long sign = *s == '-' ? -1 : 1;

	if (*s != '+' && *s != '-')
		return -1;
	s++;
	if (digits(&s, 2, &h) || (*s == ':' && (s++, digits(&s, 2, &m))) ||
	    (*s == ':' && (s++, digits(&s, 2, &sec))) || *s != '\0')
		return -1;
	*east = sign * (h * 3600L + m * 60L + sec);
	return 0;
}

const char *when_moment(struct arena *a, const char *pg)
{
	struct tm t = { 0 }, local;
	const char *s = read_date(pg, &t);
	char out[64];
	long east;
	time_t at;

	if (s == NULL || expect(&s, ' ') || digits(&s, 2, &t.tm_hour) || expect(&s, ':') ||
	    digits(&s, 2, &t.tm_min) || expect(&s, ':') || digits(&s, 2, &t.tm_sec))
		return arena_strdup(a, pg);
	if (*s == '.')
		s += 1 + strspn(s + 1, "0123456789");
	if (read_offset(s, &east) < 0)
		return arena_strdup(a, pg);
	at = timegm(&t) - east;
	apply_zone();
	if (!localtime_r(&at, &local) || !strftime(out, sizeof(out), WHEN_MOMENT, &local))
		return arena_strdup(a, pg);
	return arena_strdup(a, out);
}

const char *when_date(struct arena *a, const char *pg)
{
	struct tm t = { 0 };
	const char *s = read_date(pg, &t);
	char out[32];

	if (s == NULL || *s != '\0' || !strftime(out, sizeof(out), WHEN_DATE, &t))
		return arena_strdup(a, pg);
	return arena_strdup(a, out);
}
