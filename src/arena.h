/* arena.h - per-request memory arena: many small allocations, freed in one go. */
#ifndef CAREBOX_ARENA_H
#define CAREBOX_ARENA_H

#include <stddef.h>

struct arena;

/* Creates an arena whose first chunk holds `first` bytes. Aborts when out of
 * memory. The caller frees it with arena_free(). */
struct arena *arena_new(size_t first);

/* Returns `n` bytes aligned for any type, valid until the next arena_reset()
 * or arena_free(). Never returns NULL: aborts when out of memory. */
void *arena_alloc(struct arena *a, size_t n);

/* Copies `n` bytes of `s` into the arena and adds a NUL. */
char *arena_strndup(struct arena *a, const char *s, size_t n);

/* Copies the NUL-terminated `s` into the arena. */
char *arena_strdup(struct arena *a, const char *s);

/* Formats like printf() into a new NUL-terminated string in the arena. Not
 * for SQL: queries take their values as parameters. */
char *arena_printf(struct arena *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Forgets every allocation; keeps the first chunk and frees the others, so a
 * worker's memory stays flat from one request to the next. */
void arena_reset(struct arena *a);

/* Frees the arena and everything allocated from it. NULL is allowed. */
void arena_free(struct arena *a);

/* Bytes currently allocated from the system by this arena (for tests). */
size_t arena_footprint(const struct arena *a);

#endif
