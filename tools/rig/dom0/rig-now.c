/* rig-now: print CLOCK_MONOTONIC (or CLOCK_BOOTTIME with -b) in nanoseconds, for timing in dom0
 * scenarios (busybox date has no %N; /proc/uptime has 10 ms steps). Built static by mk-dom0.sh. */
#include <stdio.h>
#include <string.h>
#include <time.h>

int main(int argc, char **argv)
{
	struct timespec ts;
	clockid_t id = (argc > 1 && strcmp(argv[1], "-b") == 0) ? CLOCK_BOOTTIME : CLOCK_MONOTONIC;

	if (clock_gettime(id, &ts) != 0) {
		perror("rig-now: clock_gettime");
		return 1;
	}
	printf("%lld\n", (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
	return 0;
}
