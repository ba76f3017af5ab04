/*
 * check.h: the assertions every test program uses. A failed CHECK prints
 * the file, line and expression and counts; the program's exit status is
 * check_exit() (non-zero when anything failed), so one run reports every
 * failure instead of stopping at the first. The counters are atomic: threaded
 * tests CHECK from several threads (and run under TSan).
 */
#ifndef TLSHIM_TESTS_CHECK_H
#define TLSHIM_TESTS_CHECK_H

#include <stdio.h>
#include <string.h>

extern int check_failures;
extern int check_count;

#define CHECK(cond)                                                                              \
	do {                                                                                     \
		__atomic_add_fetch(&check_count, 1, __ATOMIC_RELAXED);                           \
		if (!(cond)) {                                                                   \
			__atomic_add_fetch(&check_failures, 1, __ATOMIC_RELAXED);                \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
		}                                                                                \
	} while (0)

#define CHECK_EQ(a, b)                                                                       \
	do {                                                                                 \
		long long check_a_ = (long long)(a), check_b_ = (long long)(b);              \
		__atomic_add_fetch(&check_count, 1, __ATOMIC_RELAXED);                       \
		if (check_a_ != check_b_) {                                                  \
			__atomic_add_fetch(&check_failures, 1, __ATOMIC_RELAXED);            \
			fprintf(stderr, "%s:%d: CHECK_EQ failed: %s == %s (%lld != %lld)\n", \
				__FILE__, __LINE__, #a, #b, check_a_, check_b_);             \
		}                                                                            \
	} while (0)

#define CHECK_MEM(a, b, n) CHECK(memcmp((a), (b), (n)) == 0)

/* check_exit(name): print "name: N checks, M failed" and return the exit code. */
int check_exit(const char *name);

/* check_hex(hex, out, max): decode a hex string (spaces ignored) into ${out};
 * returns the byte count. Aborts on malformed input (a test bug). */
size_t check_hex(const char *hex, unsigned char *out, size_t max);

#endif
