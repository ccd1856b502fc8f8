/* arena.c - chunked bump allocator, reset after each request. */
#include "arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_ALIGN 16

struct chunk {
	struct chunk *next;
	size_t size;		/* usable bytes after the header */
	size_t used;
	_Alignas(ARENA_ALIGN) unsigned char data[];
};

struct arena {
	struct chunk *head;	/* the chunk being filled; its list ends at first */
	struct chunk *first;
	size_t first_size;
};

static void *xmalloc(size_t n)
{
	void *p = malloc(n);

	if (p == NULL) {
		fputs("carebox: out of memory\n", stderr);
		abort();
	}
	return p;
}

static struct chunk *chunk_new(size_t size)
{
	struct chunk *c = xmalloc(sizeof(*c) + size);

	c->next = NULL;
	c->size = size;
	c->used = 0;
	return c;
}

struct arena *arena_new(size_t first)
{
	struct arena *a = xmalloc(sizeof(*a));

	if (first < 1024)
		first = 1024;
	a->first_size = first;
	a->first = a->head = chunk_new(first);
	return a;
}

void *arena_alloc(struct arena *a, size_t n)
{
	struct chunk *c = a->head;
	size_t need;

	if (n > SIZE_MAX / 2) {
		fputs("carebox: arena request too large\n", stderr);
		abort();
	}
	need = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	if (need == 0)
		need = ARENA_ALIGN;
	if (c->size - c->used < need) {
		size_t size = c->size * 2;

		if (size < need)
			size = need;
		c = chunk_new(size);
		c->next = a->head;
		a->head = c;
	}
	c->used += need;
	return c->data + c->used - need;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

char *arena_printf(struct arena *a, const char *fmt, ...)
{
	va_list ap;
	int n;
	char *p;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return arena_strdup(a, "");
	p = arena_alloc(a, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

void arena_reset(struct arena *a)
{
	struct chunk *c = a->head, *next;

	while (c != a->first) {
		next = c->next;
		free(c);
		c = next;
	}
	a->first->used = 0;
	a->head = a->first;
}

void arena_free(struct arena *a)
{
	if (a == NULL)
		return;
	arena_reset(a);
	free(a->first);
	free(a);
}

size_t arena_footprint(const struct arena *a)
{
	size_t n = 0;

	for (const struct chunk *c = a->head; c != NULL; c = c->next)
		n += sizeof(*c) + c->size;
	return n;
}
