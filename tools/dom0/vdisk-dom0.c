/*
 * vdisk-dom0: small static helper run in dom0 (Linux) to talk to a vdisk domain.
 *
 *   vdisk-dom0 evtchn-ping DOMID PORT COUNT
 *       Binds to vdisk's echo port (data/vdisk/evtchn-port) through /dev/xen/evtchn,
 *       sends COUNT events, waits for each to come back, and prints the round trips.
 *
 *   vdisk-dom0 latency DOMID
 *       Asks vdisk in domain DOMID for its counters (data/vdisk/stats-request), which has it
 *       write its latency histograms first, and prints them, one line each: first
 *       "upcall count=N mean_ns=N p50_ns=N p90_ns=N p99_ns=N p999_ns=N max_ns=N
 *       buckets=MAX:N,..." (the event-channel upcall, sampled on a loopback channel), then
 *       "DEVICE KIND count=N ..." for each device, with KIND service (a request from the
 *       available ring to the used ring) or ioreq (an IOREQ read to answered): the lines vdisk
 *       logs with latency_period=, without their "latency: ". Talks to xenstore through
 *       /dev/xen/xenbus (the xenstore wire protocol, io/xs_wire.h).
 *
 *   vdisk-dom0 set-target BACKEND_DOMID FRONTEND_DOMID
 *       XEN_DOMCTL_set_target(BACKEND, FRONTEND) through /dev/xen/privcmd: under Xen's dummy XSM
 *       policy this is what lets a driver domain (vdisk) use dm_op, acquire_resource and
 *       foreign mapping on the frontend. Xen 4.17 allows it ONCE per backend domain (a second
 *       call fails with EINVAL) and keeps it until the backend domain dies.
 *
 * Built statically with Debian's aarch64-linux-gnu-gcc so that it needs nothing from dom0.
 * The hypercall ABI (struct xen_domctl, XEN_DOMCTL_INTERFACE_VERSION, privcmd's ioctl) comes from
 * Debian's libxen-dev headers (/usr/include/xen), reached through the build's private include
 * root (-idirafter build/include, after the cross toolchain's own headers).
 */
#define _GNU_SOURCE /* strerrorname_np */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

typedef uint16_t domid_t; /* <xen/evtchn.h> uses it without defining it */
#include <xen/evtchn.h>   /* Linux UAPI (cross toolchain): /dev/xen/evtchn ioctls */

/* Xen's public interface, from libxen-dev. domctl is a tools-only interface. */
#define __XEN_TOOLS__ 1
#if __has_include(<xen/domctl.h>)
#include <xen/domctl.h>
#include <xen/sys/privcmd.h> /* Xen's copy of Linux's privcmd ABI */
#else /* built without -idirafter build/include: take libxen-dev's headers directly */
#include "/usr/include/xen/domctl.h"
#include "/usr/include/xen/sys/privcmd.h"
#endif
#if __has_include(<xen/io/xs_wire.h>)
#include <xen/io/xs_wire.h>
#else
#include "/usr/include/xen/io/xs_wire.h"
#endif
_Static_assert(XEN_DOMCTL_INTERFACE_VERSION == 0x15, "Xen 4.17's domctl interface (0x15) expected");

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

/*
 * A hypercall argument buffer Xen can read and write. Linux (4.18+) hands out such memory through
 * mmap of /dev/xen/hypercall (privcmd-buf.c: pages that never move or get swapped out while a
 * hypercall uses them); libxencall does the same. Xen reads the buffer through the caller's
 * stage-1 page tables, so plain user memory also works while it is resident: that is the
 * fallback when the device is absent, and VDISK_DOM0_HCALL_BUF=user forces it (for testing).
 */
struct hcall_buf {
	void *p;
	size_t size;
	int fd;
	const char *kind;
};

static int hcall_buf_alloc(struct hcall_buf *b, size_t size)
{
	const char *force = getenv("VDISK_DOM0_HCALL_BUF");
	long page = sysconf(_SC_PAGESIZE);

	b->size = (size + (size_t)page - 1) & ~((size_t)page - 1);
	b->fd = -1;
	if (!force || strcmp(force, "user") != 0) {
		b->fd = open("/dev/xen/hypercall", O_RDWR | O_CLOEXEC);
		if (b->fd >= 0) {
			b->p = mmap(NULL, b->size, PROT_READ | PROT_WRITE, MAP_SHARED, b->fd, 0);
			if (b->p != MAP_FAILED) {
				b->kind = "/dev/xen/hypercall";
				memset(b->p, 0, b->size);
				return 0;
			}
			fprintf(stderr, "vdisk-dom0: mmap /dev/xen/hypercall: %s\n", strerror(errno));
			close(b->fd);
			b->fd = -1;
		} else if (errno != ENOENT) {
			fprintf(stderr, "vdisk-dom0: /dev/xen/hypercall: %s\n", strerror(errno));
		}
	}
	b->p = mmap(NULL, b->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (b->p == MAP_FAILED) {
		perror("vdisk-dom0: mmap");
		return -1;
	}
	if (mlock(b->p, b->size) != 0) /* fault it in and keep it there */
		fprintf(stderr, "vdisk-dom0: mlock: %s (carrying on)\n", strerror(errno));
	memset(b->p, 0, b->size);
	b->kind = "locked user memory";
	return 0;
}

static void hcall_buf_free(struct hcall_buf *b)
{
	munmap(b->p, b->size);
	if (b->fd >= 0)
		close(b->fd);
}

static const char *errno_name(int e)
{
	const char *n = strerrorname_np(e);

	return n ? n : "?";
}

static int set_target(unsigned int backend, unsigned int frontend)
{
	struct hcall_buf buf;
	struct xen_domctl *op;
	privcmd_hypercall_t call = {.op = __HYPERVISOR_domctl};
	int fd, e;
	long ret;

	fd = open("/dev/xen/privcmd", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "vdisk-dom0: /dev/xen/privcmd: %s (xen-privcmd loaded? dom0?)\n",
			strerror(errno));
		return 1;
	}
	if (hcall_buf_alloc(&buf, sizeof(*op)) != 0) {
		close(fd);
		return 1;
	}
	op = buf.p;
	op->cmd = XEN_DOMCTL_set_target;
	op->interface_version = XEN_DOMCTL_INTERFACE_VERSION;
	op->domain = (domid_t)backend;
	op->u.set_target.target = (domid_t)frontend;
	call.arg[0] = (uint64_t)(uintptr_t)op;

	ret = ioctl(fd, IOCTL_PRIVCMD_HYPERCALL, &call);
	e = errno;
	hcall_buf_free(&buf);
	close(fd);
	if (ret == 0) {
		printf("set-target: domain %u (backend) now has domain %u (frontend) as its target\n",
		       backend, frontend);
		return 0;
	}
	if (ret > 0) { /* not an error code: should not happen */
		fprintf(stderr, "vdisk-dom0: set-target %u -> %u: hypercall returned %ld\n", backend,
			frontend, ret);
		return 1;
	}
	fprintf(stderr, "vdisk-dom0: set-target backend domain %u -> frontend domain %u failed: %s (%s)",
		backend, frontend, errno_name(e), strerror(e));
	switch (e) {
	case EINVAL:
		if (backend == frontend)
			fprintf(stderr, ": a domain cannot be its own target\n");
		else
			fprintf(stderr, ": domain %u already has a target (Xen 4.17 allows set_target "
					"once per domain, until it dies)\n",
				backend);
		break;
	case ESRCH:
		fprintf(stderr, ": domain %u or %u does not exist\n", backend, frontend);
		break;
	case EACCES:
	case EPERM:
		fprintf(stderr, ": refused by Xen's XSM policy or not the control domain\n");
		break;
	case EOPNOTSUPP:
		fprintf(stderr, ": the frontend %u is not an HVM domain\n", frontend);
		break;
	case EFAULT:
		fprintf(stderr, ": Xen could not read the domctl buffer (%s)\n", buf.kind);
		break;
	default:
		fprintf(stderr, "\n");
	}
	return 1;
}

/* ---- latency: xenstore through /dev/xen/xenbus ---- */

/*
 * One xenstore request (`args`: `len` bytes, NUL-separated fields) and its reply, NUL-ended,
 * in `out`. Returns the reply's length, or -1 (printed) for an XS_ERROR or a broken channel.
 */
static int xs_call(int fd, enum xsd_sockmsg_type type, const char *args, size_t len, char *out,
                   size_t size)
{
	struct xsd_sockmsg msg = {.type = type, .req_id = 1, .len = (uint32_t)len};
	char buf[sizeof(msg) + XENSTORE_PAYLOAD_MAX];
	ssize_t n;

	if (len > XENSTORE_PAYLOAD_MAX)
		return -1;
	memcpy(buf, &msg, sizeof(msg));
	memcpy(buf + sizeof(msg), args, len);
	if (write(fd, buf, sizeof(msg) + len) != (ssize_t)(sizeof(msg) + len) ||
	    read(fd, &msg, sizeof(msg)) != sizeof(msg) || msg.len >= size ||
	    (n = read(fd, out, msg.len)) != (ssize_t)msg.len) {
		fprintf(stderr, "vdisk-dom0: /dev/xen/xenbus: %s\n", strerror(errno));
		return -1;
	}
	out[msg.len] = '\0';
	if (msg.type == XS_ERROR) {
		if (strcmp(out, "ENOENT") != 0) /* a key or directory not there: the caller decides */
			fprintf(stderr, "vdisk-dom0: xenstore answered %s for %s\n", out, args);
		return -1;
	}
	return (int)msg.len;
}

static int latency(unsigned int domid)
{
	char base[64], path[160], args[256], id[48], reply[XENSTORE_PAYLOAD_MAX + 1];
	char names[XENSTORE_PAYLOAD_MAX + 1];
	int fd = open("/dev/xen/xenbus", O_RDWR), len, got = 0;
	uint64_t deadline = now_ns() + (uint64_t)REPLY_TIMEOUT_MS * 1000000u;

	if (fd < 0) {
		fprintf(stderr, "vdisk-dom0: /dev/xen/xenbus: %s (is xenfs mounted, are we dom0?)\n",
		        strerror(errno));
		return 1;
	}
	snprintf(base, sizeof(base), "/local/domain/%u/data/vdisk", domid);
	snprintf(id, sizeof(id), "latency-%d-%llu", (int)getpid(), (unsigned long long)now_ns());
	/* XS_WRITE: the path, its NUL, then the value without one */
	len = snprintf(args, sizeof(args), "%s/stats-request%c%s", base, '\0', id);
	if (xs_call(fd, XS_WRITE, args, (size_t)len, reply, sizeof(reply)) < 0)
		return 1;
	/* vdisk writes the histograms, then the stats naming this id */
	snprintf(path, sizeof(path), "%s/stats", base);
	while (!got) {
		if (xs_call(fd, XS_READ, path, strlen(path) + 1, reply, sizeof(reply)) > 0 &&
		    strncmp(reply, "id=", 3) == 0 && strncmp(reply + 3, id, strlen(id)) == 0 &&
		    reply[3 + strlen(id)] == ' ')
			got = 1;
		else if (now_ns() > deadline) {
			fprintf(stderr, "vdisk-dom0: domain %u did not answer in %d ms (is it vdisk?)\n",
			        domid, REPLY_TIMEOUT_MS);
			return 1;
		} else
			usleep(20000);
	}
	snprintf(path, sizeof(path), "%s/latency/upcall", base);
	if (xs_call(fd, XS_READ, path, strlen(path) + 1, reply, sizeof(reply)) >= 0)
		printf("upcall %s\n", reply);
	snprintf(path, sizeof(path), "%s/latency", base);
	len = xs_call(fd, XS_DIRECTORY, path, strlen(path) + 1, names, sizeof(names));
	for (int at = 0; len > 0 && at < len; at += (int)strlen(names + at) + 1) {
		static const char *const kinds[] = {"service", "ioreq"};

		if (strcmp(names + at, "upcall") == 0)
			continue; /* a key, not a device's directory */
		for (unsigned int k = 0; k < 2; k++) {
			snprintf(path, sizeof(path), "%s/latency/%s/%s", base, names + at, kinds[k]);
			if (xs_call(fd, XS_READ, path, strlen(path) + 1, reply, sizeof(reply)) >= 0)
				printf("%s %s %s\n", names + at, kinds[k], reply);
		}
	}
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && strcmp(argv[1], "evtchn-ping") == 0)
		return evtchn_ping((unsigned int)parse("DOMID", argv[2], 0x7fef),
				   (unsigned int)parse("PORT", argv[3], 4095),
				   (unsigned int)parse("COUNT", argv[4], 1000000));
	if (argc == 3 && strcmp(argv[1], "latency") == 0)
		return latency((unsigned int)parse("DOMID", argv[2], 0x7fef));
	if (argc == 4 && strcmp(argv[1], "set-target") == 0)
		return set_target((unsigned int)parse("BACKEND_DOMID", argv[2], 0x7fef),
				  (unsigned int)parse("FRONTEND_DOMID", argv[3], 0x7fef));
	fprintf(stderr, "usage: vdisk-dom0 evtchn-ping DOMID PORT COUNT\n"
			"       vdisk-dom0 latency DOMID\n"
			"       vdisk-dom0 set-target BACKEND_DOMID FRONTEND_DOMID\n");
	return 2;
}
