/* Formatting of vdisk's activity counters (see stats.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <xen/xen.h>

#include "boot/stats.h"

static const char *hypercall_name(unsigned int nr)
{
	switch (nr) {
	case __HYPERVISOR_memory_op:
		return "memory_op";
	case __HYPERVISOR_xen_version:
		return "xen_version";
	case __HYPERVISOR_console_io:
		return "console_io";
	case __HYPERVISOR_grant_table_op:
		return "grant_table_op";
	case __HYPERVISOR_vcpu_op:
		return "vcpu_op";
	case __HYPERVISOR_sched_op:
		return "sched_op";
	case __HYPERVISOR_event_channel_op:
		return "event_channel_op";
	case __HYPERVISOR_hvm_op:
		return "hvm_op";
	case __HYPERVISOR_dm_op:
		return "dm_op";
	default:
		return NULL;
	}
}

/* Appends " key=n" (no space first) at buf + *len; on overflow, notes it, buf unchanged. */
static void append(char *buf, size_t size, size_t *len, bool *full, const char *key, uint64_t n)
{
	int rc;

	if (*full)
		return;
	rc = snprintf(buf + *len, size - *len, "%s%s=%llu", *len ? " " : "", key,
	              (unsigned long long)n);
	if (rc < 0 || (size_t)rc >= size - *len) {
		buf[*len] = '\0'; /* whole fields only */
		*full = true;
		return;
	}
	*len += (size_t)rc;
}

int stats_format(const struct stats *s, char *buf, size_t size)
{
	uint64_t total = 0;
	size_t len = 0;
	bool full = false;
	char key[32];

	if (size == 0)
		return -ENOSPC;
	buf[0] = '\0';
	for (unsigned int i = 0; i < STATS_HYPERCALL_NR_MAX; i++)
		total += s->hypercall_counts[i];
	append(buf, size, &len, &full, "hypercalls", total);
	append(buf, size, &len, &full, "ioreqs", s->ioreq_count);
	append(buf, size, &len, &full, "requests", s->request_count);
	append(buf, size, &len, &full, "yields", s->yield_count);
	append(buf, size, &len, &full, "ioreq_ns", s->ioreq_ns);
	append(buf, size, &len, &full, "idle_ns", s->idle_ns);
	append(buf, size, &len, &full, "now_ns", s->now_ns);
	append(buf, size, &len, &full, "mapped", s->mapped);
	append(buf, size, &len, &full, "frames_free", s->frames_free);
	for (unsigned int i = 0; i < STATS_HYPERCALL_NR_MAX; i++) {
		const char *name = hypercall_name(i);

		if (s->hypercall_counts[i] == 0)
			continue;
		if (name)
			snprintf(key, sizeof(key), "hc_%s", name);
		else
			snprintf(key, sizeof(key), "hc_%u", i);
		append(buf, size, &len, &full, key, s->hypercall_counts[i]);
	}
	return full ? -ENOSPC : (int)len;
}
