/* dirlist.c - the files of a folder that end in a given suffix, sorted. */
#include "dirlist.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *must(void *p)
{
	if (p == NULL) {
		fputs("carebox: out of memory\n", stderr);
		abort();
	}
	return p;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char **dir_list(const char *dir, const char *suffix)
{
	DIR *d = opendir(dir);
	size_t n = 0, cap = 8, slen = strlen(suffix);
	struct dirent *e;
	char **v;

	if (d == NULL)
		return NULL;
	v = must(malloc(cap * sizeof(*v)));
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);

		if (e->d_name[0] == '.' || len <= slen ||
		    strcmp(e->d_name + len - slen, suffix) != 0)
			continue;
		if (n + 1 == cap)
			v = must(realloc(v, (cap *= 2) * sizeof(*v)));
		v[n++] = must(strdup(e->d_name));
	}
	closedir(d);
	v[n] = NULL;
	qsort(v, n, sizeof(*v), by_name);
	return v;
}

void dir_list_free(char **names)
{
	for (size_t k = 0; names && names[k]; k++)
		free(names[k]);
	free(names);
}
