/*
 * vdisk-dom0: small static helper run in dom0 (Linux) to talk to a vdisk domain.
 *
 *   vdisk-dom0 evtchn-ping DOMID PORT COUNT
 *       Binds to vdisk's echo port (data/vdisk/evtchn-port) through /dev/xen/evtchn,
 *       sends COUNT events, waits for each to come back, and prints the round trips.
 *
 * Built statically with Debian's aarch64-linux-gnu-gcc so that it needs nothing from dom0.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

typedef uint16_t domid_t; /* <xen/evtchn.h> uses it without defining it */
#include <xen/evtchn.h>

#define REPLY_TIMEOUT_MS 5000
#define BIND_EVENT_WAIT_MS 1000

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int compare_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static unsigned long parse(const char *what, const char *s, unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || *s == '\0' || *end != '\0' || v > max) {
		fprintf(stderr, "vdisk-dom0: %s '%s' is not a number up to %lu\n", what, s, max);
		exit(2);
	}
	return v;
}

static int evtchn_ping(unsigned int domid, unsigned int port, unsigned int count)
{
	struct ioctl_evtchn_bind_interdomain bind = {.remote_domain = domid, .remote_port = port};
	uint64_t *rtt = calloc(count, sizeof(*rtt));
	int fd = open("/dev/xen/evtchn", O_RDWR);
	int local;

	if (fd < 0 || !rtt) {
		perror("vdisk-dom0: /dev/xen/evtchn");
		return 1;
	}
	local = ioctl(fd, IOCTL_EVTCHN_BIND_INTERDOMAIN, &bind);
	if (local < 0) {
		fprintf(stderr, "vdisk-dom0: binding to domain %u port %u: %s\n", domid, port,
			strerror(errno));
		return 1;
	}
	/*
	 * Xen marks a freshly bound interdomain port pending (in case events were lost), so
	 * the first event is not an echo: take it before timing anything.
	 */
	{
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		uint32_t got;

		if (poll(&pfd, 1, BIND_EVENT_WAIT_MS) == 1 && read(fd, &got, sizeof(got)) == sizeof(got) &&
		    write(fd, &got, sizeof(got)) != sizeof(got)) {
			fprintf(stderr, "vdisk-dom0: unmask: %s\n", strerror(errno));
			return 1;
		}
	}
	for (unsigned int i = 0; i < count; i++) {
		struct ioctl_evtchn_notify notify = {.port = (unsigned int)local};
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		uint64_t start = now_ns();
		uint32_t got;

		if (ioctl(fd, IOCTL_EVTCHN_NOTIFY, &notify) < 0) {
			fprintf(stderr, "vdisk-dom0: notify: %s\n", strerror(errno));
			return 1;
		}
		if (poll(&pfd, 1, REPLY_TIMEOUT_MS) != 1) {
			fprintf(stderr, "vdisk-dom0: no event back from domain %u after %u of %u\n",
				domid, i, count);
			return 1;
		}
		if (read(fd, &got, sizeof(got)) != sizeof(got) || got != (uint32_t)local) {
			fprintf(stderr, "vdisk-dom0: unexpected event (port %u)\n", got);
			return 1;
		}
		rtt[i] = now_ns() - start;
		/* Unmask the port again: the evtchn driver masks it on delivery. */
		if (write(fd, &got, sizeof(got)) != sizeof(got)) {
			fprintf(stderr, "vdisk-dom0: unmask: %s\n", strerror(errno));
			return 1;
		}
	}
	qsort(rtt, count, sizeof(*rtt), compare_u64);
	printf("evtchn-ping: domain %u port %u: %u round trips, min %llu us, median %llu us, "
	       "max %llu us\n",
	       domid, port, count, (unsigned long long)rtt[0] / 1000,
	       (unsigned long long)rtt[count / 2] / 1000,
	       (unsigned long long)rtt[count - 1] / 1000);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && strcmp(argv[1], "evtchn-ping") == 0)
		return evtchn_ping((unsigned int)parse("DOMID", argv[2], 0x7fef),
				   (unsigned int)parse("PORT", argv[3], 4095),
				   (unsigned int)parse("COUNT", argv[4], 1000000));
	fprintf(stderr, "usage: vdisk-dom0 evtchn-ping DOMID PORT COUNT\n");
	return 2;
}
