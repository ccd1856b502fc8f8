/* tap.h - the few macros the C unit tests use to print TAP. */
#ifndef CAREBOX_TAP_H
#define CAREBOX_TAP_H

#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

/* Reports one check; `cond` true passes. Returns cond. */
#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

static inline int tap_ok(int cond, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#include <stdarg.h>
static inline int tap_ok(int cond, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", cond ? "" : "not ", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (!cond) {
		tap_failed++;
		printf("#   at %s:%d\n", file, line);
	}
	return cond;
}

/* Compares two strings, printing both on a mismatch. */
#define is_str(got, want, ...) \
	tap_is_str((got), (want), __FILE__, __LINE__, __VA_ARGS__)

static inline int tap_is_str(const char *got, const char *want, const char *file,
			     int line, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static inline int tap_is_str(const char *got, const char *want, const char *file,
			     int line, const char *fmt, ...)
{
	va_list ap;
	int cond = got != NULL && want != NULL ? strcmp(got, want) == 0 : got == want;

	printf("%sok %d - ", cond ? "" : "not ", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (!cond) {
		tap_failed++;
		printf("#   at %s:%d\n#   got:  \"%s\"\n#   want: \"%s\"\n", file, line,
		       got ? got : "(null)", want ? want : "(null)");
	}
	return cond;
}

/* Prints the plan; the exit status of main(). */
static inline int tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
