#include "check.h"

#include <ctype.h>
#include <stdlib.h>

int check_failures;
int check_count;

int check_exit(const char *name)
{
	printf("%s: %d checks, %d failed\n", name, check_count, check_failures);
	if (check_count == 0) {
		fprintf(stderr, "%s: no checks ran\n", name);
		return 1;
	}
	return check_failures ? 1 : 0;
}

static int hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch = tolower(ch);
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

size_t check_hex(const char *hex, unsigned char *out, size_t max)
{
	size_t n = 0;
	int hi = -1;
	for (; *hex; hex++) {
		if (isspace((unsigned char)*hex))
			continue;
		int v = hexval((unsigned char)*hex);
		if (v < 0 || n >= max) {
			fprintf(stderr, "check_hex: bad or oversized input\n");
			abort();
		}
		if (hi < 0) {
			hi = v;
		} else {
			out[n++] = (unsigned char)(hi << 4 | v);
			hi = -1;
		}
	}
	if (hi >= 0) {
		fprintf(stderr, "check_hex: odd digit count\n");
		abort();
	}
	return n;
}
