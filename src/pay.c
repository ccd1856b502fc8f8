/* pay.c - the payment providers carebox knows, by name (src/pay.h). */
#include "pay.h"

#include <stdlib.h>
#include <string.h>

/* Every provider, NULL-terminated; a real gateway adds its line here. */
static const struct pay_provider *const pay_providers[] = { &pay_sim, NULL };

const struct pay_provider *pay_find(const char *name)
{
	for (int i = 0; name && pay_providers[i]; i++)
		if (strcmp(pay_providers[i]->name, name) == 0)
			return pay_providers[i];
	return NULL;
}

const char *pay_default(void)
{
	const char *name = getenv("CAREBOX_PAY_PROVIDER");

	return name && *name ? name : "sim";
}
