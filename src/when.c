/* when.c - how carebox shows a moment or a date: one format everywhere,
 * in the viewer's time zone, naming the zone ("07 Dec 2026 20:45 GMT"). */
#include "when.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WHEN_MOMENT "%d %b %Y %H:%M %Z"
#define WHEN_DATE "%d %b %Y"

static char shown_zone[128] = "";	/* the TZ in force: "" until the first call */

void when_zone(const char *zone)
{
	if (zone == NULL || *zone == '\0' || strlen(zone) >= sizeof(shown_zone))
		zone = "UTC";
	if (strcmp(zone, shown_zone) == 0)
		return;
	snprintf(shown_zone, sizeof(shown_zone), "%s", zone);
	/* Workers are single-threaded: the process's TZ is the viewer's. */
	setenv("TZ", zone, 1);
	tzset();
}

/* Reads "YYYY-MM-DD" at s into *t (the date fields); returns the rest, or
 * NULL if s does not start with a date. */
static const char *read_date(const char *s, struct tm *t)
{
	int n = 0;

	if (sscanf(s, "%4d-%2d-%2d%n", &t->tm_year, &t->tm_mon, &t->tm_mday, &n) != 3 || n != 10)
		return NULL;
	t->tm_year -= 1900;
	t->tm_mon -= 1;
	return s + n;
}

/* Reads "+HH[:MM[:SS]]" or "-..." at s into seconds east of UTC; returns
 * 0, or -1 if it is not an offset that ends the text. */
static int read_offset(const char *s, long *east)
{
	int h = 0, m = 0, sec = 0, n = 0;
	long sign = *s == '-' ? -1 : 1;

	if ((*s != '+' && *s != '-') || sscanf(s + 1, "%2d%n", &h, &n) != 1 || n != 2)
		return -1;
	s += 1 + n;
	if (*s == ':' && sscanf(s + 1, "%2d%n", &m, &n) == 1 && n == 2)
		s += 1 + n;
	if (*s == ':' && sscanf(s + 1, "%2d%n", &sec, &n) == 1 && n == 2)
		s += 1 + n;
	if (*s != '\0')
		return -1;
	*east = sign * (h * 3600L + m * 60L + sec);
	return 0;
}

const char *when_moment(struct arena *a, const char *pg)
{
	struct tm t = { 0 }, local;
	const char *s = read_date(pg, &t);
	char out[64];
	int n = 0;
	long east;
	time_t at;

	if (s == NULL || sscanf(s, " %2d:%2d:%2d%n", &t.tm_hour, &t.tm_min, &t.tm_sec, &n) != 3)
		return arena_strdup(a, pg);
	s += n;
	if (*s == '.')
		s += 1 + strspn(s + 1, "0123456789");
	if (read_offset(s, &east) < 0)
		return arena_strdup(a, pg);
	at = timegm(&t) - east;
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
