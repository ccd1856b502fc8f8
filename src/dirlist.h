/* dirlist.h - the files of a folder that end in a given suffix, sorted. */
#ifndef CAREBOX_DIRLIST_H
#define CAREBOX_DIRLIST_H

/* The names (not paths) of the entries of `dir` that end in `suffix` and
 * have something before it, hidden ones (".x") left out, sorted by strcmp
 * so the order is the same on every run. Returns a heap array of heap
 * strings ending in NULL, freed by dir_list_free(); NULL with errno set if
 * `dir` cannot be opened. Aborts when out of memory. */
char **dir_list(const char *dir, const char *suffix);

/* Frees what dir_list() returned. NULL is allowed. */
void dir_list_free(char **names);

#endif
