/*
 * A small host unit-test framework: TEST(suite, name) { ... } registers a test through a
 * constructor; EXPECT_* records a failure with file:line and the values and goes on,
 * ASSERT_* also returns from the test. test.c's main() runs every test in source order.
 */
#ifndef TESTS_UNIT_TEST_H
#define TESTS_UNIT_TEST_H

#include <stdbool.h>
#include <stddef.h>

/** One registered test. */
struct test_case {
	const char *suite;
	const char *name;
	const char *file;
	int line;
	void (*fn)(void);
	struct test_case *next;
};

/** Adds a test to the list main() runs (called from TEST's constructor). */
void test_register(struct test_case *tc);
/** Marks the running test failed and prints "file:line: message". */
void test_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/** Whether the running test has failed so far (for ASSERT_*). */
bool test_current_failed(void);

/* Out-of-line checks, so that each argument is evaluated exactly once. */
bool test_check_int(const char *file, int line, const char *op, const char *a_src,
                    const char *b_src, long long a, long long b, bool ok);
bool test_check_str(const char *file, int line, const char *a_src, const char *b_src, const char *a,
                    const char *b, bool want_equal);
bool test_check_mem(const char *file, int line, const char *a_src, const char *b_src, const void *a,
                    const void *b, size_t len);
bool test_check_contains(const char *file, int line, const char *h_src, const char *n_src,
                         const char *haystack, const char *needle, bool want);

#define TEST(suite, name)                                                                          \
	static void test_##suite##_##name(void);                                                   \
	static struct test_case test_case_##suite##_##name = {                                     \
	    #suite, #name, __FILE__, __LINE__, test_##suite##_##name, NULL};                       \
	__attribute__((constructor)) static void test_register_##suite##_##name(void)              \
	{                                                                                          \
		test_register(&test_case_##suite##_##name);                                        \
	}                                                                                          \
	static void test_##suite##_##name(void)

#define TEST_CMP_(op, a, b)                                                                        \
	({                                                                                         \
		long long test_a_ = (long long)(a), test_b_ = (long long)(b);                      \
		test_check_int(__FILE__, __LINE__, #op, #a, #b, test_a_, test_b_,                  \
		               test_a_ op test_b_);                                                \
	})

#define EXPECT_EQ(a, b) ((void)TEST_CMP_(==, a, b))
#define EXPECT_NE(a, b) ((void)TEST_CMP_(!=, a, b))
#define EXPECT_LT(a, b) ((void)TEST_CMP_(<, a, b))
#define EXPECT_LE(a, b) ((void)TEST_CMP_(<=, a, b))
#define EXPECT_GT(a, b) ((void)TEST_CMP_(>, a, b))
#define EXPECT_GE(a, b) ((void)TEST_CMP_(>=, a, b))
#define EXPECT_TRUE(x)  ((void)TEST_CMP_(==, !!(x), 1))
#define EXPECT_FALSE(x) ((void)TEST_CMP_(==, !!(x), 0))
/* Strings; NULL is allowed and differs from every string. */
#define EXPECT_STREQ(a, b) ((void)test_check_str(__FILE__, __LINE__, #a, #b, a, b, true))
#define EXPECT_STRNE(a, b) ((void)test_check_str(__FILE__, __LINE__, #a, #b, a, b, false))
/* Byte ranges, printed escaped when they differ. */
#define EXPECT_MEMEQ(a, b, len) ((void)test_check_mem(__FILE__, __LINE__, #a, #b, a, b, len))
/* Substring checks, for captured log text. */
#define EXPECT_CONTAINS(haystack, needle)                                                          \
	((void)test_check_contains(__FILE__, __LINE__, #haystack, #needle, haystack, needle, true))
#define EXPECT_NOT_CONTAINS(haystack, needle)                                                      \
	((void)test_check_contains(__FILE__, __LINE__, #haystack, #needle, haystack, needle, false))

/* As EXPECT_*, then return from the test when the check failed. */
#define ASSERT_EQ(a, b)                                                                            \
	do {                                                                                       \
		if (!TEST_CMP_(==, a, b))                                                          \
			return;                                                                    \
	} while (0)
#define ASSERT_TRUE(x)                                                                             \
	do {                                                                                       \
		if (!TEST_CMP_(==, !!(x), 1))                                                      \
			return;                                                                    \
	} while (0)
#define ASSERT_STREQ(a, b)                                                                         \
	do {                                                                                       \
		if (!test_check_str(__FILE__, __LINE__, #a, #b, a, b, true))                       \
			return;                                                                    \
	} while (0)

#endif
