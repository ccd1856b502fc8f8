/* log.c - one line per event on stderr, written in a single write(2). */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

static const char *log_prog = "carebox";
static int log_pid;

void log_init(const char *prog)
{
	log_prog = prog;
	log_pid = (int)getpid();
}

/* Writes the line in one call so that lines of concurrent workers sharing
 * stderr never interleave. Overlong lines are cut, never split. */
static void log_vwrite(const char *fmt, va_list ap)
{
	char line[1024];
	int n = snprintf(line, sizeof(line), "%s[%d]: ", log_prog,
			 log_pid ? log_pid : (int)getpid());

	if (n < 0)
		return;
	n += vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	/* One event, one line: fold the newlines libpq puts in its messages. */
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == ' '))
		n--;
	for (int i = 0; i < n; i++)
		if (line[i] == '\n' || line[i] == '\r' || line[i] == '\t')
			line[i] = ' ';
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		return;
}

void log_msg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(fmt, ap);
	va_end(ap);
}

void log_request(const char *method, const char *path, int status,
		 long usec, const char *request_id)
{
	log_msg("%s %.200s %d %ldus id=%s", method, path, status, usec, request_id);
}
