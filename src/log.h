/* log.h - one line per event on stderr; never passwords, tokens or cookies. */
#ifndef CAREBOX_LOG_H
#define CAREBOX_LOG_H

/* Sets the program name printed before each line and notes the process
 * id; a forked process calls it again. */
void log_init(const char *prog);

/* Prints "prog[pid]: message\n" to stderr in one write. */
void log_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The access line of one request: method, path (without the query string,
 * which may hold tokens), status, duration in microseconds, request id. */
void log_request(const char *method, const char *path, int status,
		 long usec, const char *request_id);

#endif
