/* vdisk's latency histograms to xenstore and to the console (see latency.h). */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <xen/io/xs_wire.h>

#include "arch/timer.h"
#include "boot/backend.h"
#include "boot/latency.h"
#include "boot/loop.h"
#include "hyp/upcall.h"
#include "hyp/xs.h"
#include "lib/hist.h"
#include "lib/log.h"

#define NS_PER_S    1000000000ull
#define LATENCY_DIR "data/vdisk/latency"

/* One histogram: `kind` of device `dev`, or of vdisk itself (dev NULL: the upcall). */
struct entry {
	const char *dev;
	const char *kind;
	const struct hist *h;
};

#define ENTRY_MAX (1 + 2 * BACKEND_DEV_MAX)

/*
 * A histogram's text: a few hundred bytes, 4 KiB only with every bucket counted into the
 * billions (xenstore's limit too). One buffer: publishing and logging both run from the main
 * loop, neither inside the other.
 */
static char text[XENSTORE_PAYLOAD_MAX];

static struct {
	uint64_t period_ns;
	uint64_t due_ns;
} every;

/* Every histogram vdisk has now: the upcall's, then each device's two; devs holds their names. */
static unsigned int collect(struct backend_latency *devs, struct entry *e)
{
	unsigned int dev_count = backend_latency(devs), n = 0;

	e[n++] = (struct entry){.kind = "upcall", .h = upcall_hist()};
	for (unsigned int i = 0; i < dev_count; i++) {
		const char *name = devs[i].name;

		e[n++] = (struct entry){.dev = name, .kind = "service", .h = devs[i].service};
		e[n++] = (struct entry){.dev = name, .kind = "ioreq", .h = devs[i].ioreq};
	}
	return n;
}

void latency_publish(void)
{
	struct backend_latency devs[BACKEND_DEV_MAX];
	struct entry e[ENTRY_MAX];
	unsigned int n = collect(devs, e);
	char path[80];
	int rc;

	xs_rm(XS_TXN_NONE, LATENCY_DIR);
	for (unsigned int i = 0; i < n; i++) {
		if (e[i].dev)
			snprintf(path, sizeof(path), LATENCY_DIR "/%s/%s", e[i].dev, e[i].kind);
		else
			snprintf(path, sizeof(path), LATENCY_DIR "/%s", e[i].kind);
		if (hist_format(e[i].h, text, sizeof(text)) < 0)
			log_warn("diag: %s cut short", path);
		if ((rc = xs_write(XS_TXN_NONE, path, text)))
			log_warn("diag: writing %s failed (%d)", path, rc);
	}
}

void latency_log(void)
{
	struct backend_latency devs[BACKEND_DEV_MAX];
	struct entry e[ENTRY_MAX];
	unsigned int n = collect(devs, e);
	char key[64];

	for (unsigned int i = 0; i < n; i++) {
		bool cut = hist_format(e[i].h, text, sizeof(text)) < 0;

		if (e[i].dev)
			snprintf(key, sizeof(key), "latency: %s %s", e[i].dev, e[i].kind);
		else
			snprintf(key, sizeof(key), "latency: %s", e[i].kind);
		log_long(LOG_INFO, key, text);
		/* After its lines, so that nothing comes between them. */
		if (cut)
			log_warn("diag: the text of '%s' was cut short", key);
	}
}

static void log_periodically(void *arg)
{
	uint64_t now = arch_timer_now_ns();

	latency_log();
	every.due_ns += every.period_ns;
	if (every.due_ns <= now) /* a late pass: the next one period from now, not a burst */
		every.due_ns = now + every.period_ns;
	loop_defer_until(log_periodically, NULL, every.due_ns);
}

void latency_log_every(unsigned int period_s)
{
	if (!period_s)
		return;
	every.period_ns = period_s * NS_PER_S;
	every.due_ns = arch_timer_now_ns() + every.period_ns;
	loop_defer_until(log_periodically, NULL, every.due_ns);
	log_info("diag: latency histograms on this console every %u s", period_s);
}
