/*
 * The test runner: runs every TEST in source order (or those whose "suite.name" contains
 * an argument), prints "PASS suite.name" or "FAIL suite.name" for each and ends with
 * "N passed, N failed"; exits 1 if any test failed. A sanitizer report or a fatal signal
 * in a test prints that test's FAIL line before the process dies, so the log names it.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/test.h"

/* The ASan runtime (always linked by the Makefile) also reports UBSan's fatal errors here. */
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#define HAVE_SANITIZER_CALLBACK 1
#endif

/*
 * GCC links UBSan as its own runtime, which ignores the ASan death callback: make a fatal
 * UBSan report abort instead, so that on_signal names the test.
 */
const char *__ubsan_default_options(void);
const char *__ubsan_default_options(void)
{
	return "abort_on_error=1:print_stacktrace=1";
}

static struct test_case *tests;
static struct test_case *current;
static bool current_failed;

void test_register(struct test_case *tc)
{
	tc->next = tests;
	tests = tc;
}

void test_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	current_failed = true;
	printf("  %s:%d: ", file, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

bool test_current_failed(void)
{
	return current_failed;
}

bool test_check_int(const char *file, int line, const char *op, const char *a_src,
                    const char *b_src, long long a, long long b, bool ok)
{
	if (!ok)
		test_fail(file, line, "expected %s %s %s, got %lld (0x%llx) vs %lld (0x%llx)",
		          a_src, op, b_src, a, (unsigned long long)a, b, (unsigned long long)b);
	return ok;
}

/* Prints len bytes of s with C escapes, at most 200 of them. */
static void print_escaped(const char *s, size_t len)
{
	size_t shown = len > 200 ? 200 : len;

	putchar('"');
	for (size_t i = 0; i < shown; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\n')
			printf("\\n");
		else if (c == '\t')
			printf("\\t");
		else if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			printf("\\x%02x", c);
		else
			putchar(c);
	}
	putchar('"');
	if (shown < len)
		printf("... (%zu bytes)", len);
}

bool test_check_str(const char *file, int line, const char *a_src, const char *b_src, const char *a,
                    const char *b, bool want_equal)
{
	bool equal = (a && b) ? strcmp(a, b) == 0 : a == b;

	if (equal == want_equal)
		return true;
	test_fail(file, line, "expected %s %s %s", a_src, want_equal ? "==" : "!=", b_src);
	printf("    %s = ", a_src);
	if (a)
		print_escaped(a, strlen(a));
	else
		printf("NULL");
	printf("\n    %s = ", b_src);
	if (b)
		print_escaped(b, strlen(b));
	else
		printf("NULL");
	printf("\n");
	return false;
}

bool test_check_mem(const char *file, int line, const char *a_src, const char *b_src, const void *a,
                    const void *b, size_t len)
{
	size_t i;

	if (memcmp(a, b, len) == 0)
		return true;
	for (i = 0; ((const char *)a)[i] == ((const char *)b)[i]; i++)
		;
	test_fail(file, line, "expected %zu bytes of %s == %s, first difference at byte %zu", len,
	          a_src, b_src, i);
	printf("    %s = ", a_src);
	print_escaped(a, len);
	printf("\n    %s = ", b_src);
	print_escaped(b, len);
	printf("\n");
	return false;
}

bool test_check_contains(const char *file, int line, const char *h_src, const char *n_src,
                         const char *haystack, const char *needle, bool want)
{
	bool found = strstr(haystack, needle) != NULL;

	if (found == want)
		return true;
	test_fail(file, line, "expected %s %s %s", h_src, want ? "to contain" : "not to contain",
	          n_src);
	printf("    %s = ", h_src);
	print_escaped(haystack, strlen(haystack));
	printf("\n    %s = ", n_src);
	print_escaped(needle, strlen(needle));
	printf("\n");
	return false;
}

/* Source order: by file name, then line; then by name, for tests made by one macro. */
static int compare_tests(const void *a, const void *b)
{
	const struct test_case *x = *(struct test_case *const *)a;
	const struct test_case *y = *(struct test_case *const *)b;
	int c = strcmp(x->file, y->file);

	if (c == 0)
		c = x->line - y->line;
	if (c == 0) /* several TESTs from one macro */
		c = strcmp(x->suite, y->suite);
	return c ? c : strcmp(x->name, y->name);
}

/* Names the test that was running when the process dies, then lets it die. */
static void report_death(const char *why)
{
	char line[256];
	int n;

	if (!current)
		return;
	n = snprintf(line, sizeof(line), "FAIL %s.%s (%s)\n", current->suite, current->name, why);
	fflush(stdout);
	if (n > 0)
		(void)!write(STDOUT_FILENO, line,
		             (size_t)n < sizeof(line) ? (size_t)n : sizeof(line));
	current = NULL;
}

#ifdef HAVE_SANITIZER_CALLBACK
static void on_sanitizer_death(void)
{
	report_death("sanitizer error, see stderr");
}
#endif

static void on_signal(int sig)
{
	report_death(sig == SIGTERM ? "killed, probably by the timeout" : strsignal(sig));
	signal(sig, SIG_DFL);
	raise(sig);
}

static bool selected(const struct test_case *tc, int argc, char **argv)
{
	char full[256];

	if (argc < 2)
		return true;
	snprintf(full, sizeof(full), "%s.%s", tc->suite, tc->name);
	for (int i = 1; i < argc; i++)
		if (strstr(full, argv[i]))
			return true;
	return false;
}

int main(int argc, char **argv)
{
	struct test_case **list;
	size_t count = 0, i;
	unsigned int passed = 0, failed = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
#ifdef HAVE_SANITIZER_CALLBACK
	__sanitizer_set_death_callback(on_sanitizer_death);
#endif
	signal(SIGTERM, on_signal);
	signal(SIGABRT, on_signal);

	for (struct test_case *tc = tests; tc; tc = tc->next)
		count++;
	list = calloc(count ? count : 1, sizeof(*list));
	if (!list)
		return 2;
	i = 0;
	for (struct test_case *tc = tests; tc; tc = tc->next)
		list[i++] = tc;
	qsort(list, count, sizeof(*list), compare_tests);

	for (i = 0; i < count; i++) {
		if (!selected(list[i], argc, argv))
			continue;
		current = list[i];
		current_failed = false;
		current->fn();
		printf("%s %s.%s\n", current_failed ? "FAIL" : "PASS", current->suite,
		       current->name);
		if (current_failed)
			failed++;
		else
			passed++;
		current = NULL;
	}
	free(list);
	printf("%u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}
