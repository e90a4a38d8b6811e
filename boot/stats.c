/* Formatting of vdisk's activity counters (see stats.h). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>

#include <xen/xen.h>

#include "boot/stats.h"
#include "lib/fields.h"

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

/* Appends " key=n" (no space first). */
static void append(struct fields *f, const char *key, uint64_t n)
{
	fields_add(f, "%s%s=%llu", f->len ? " " : "", key, (unsigned long long)n);
}

int stats_format(const struct stats *s, char *buf, size_t size)
{
	uint64_t total = 0;
	struct fields f;
	char key[32];

	fields_start(&f, buf, size);
	for (unsigned int i = 0; i < STATS_HYPERCALL_NR_MAX; i++)
		total += s->hypercall_counts[i];
	append(&f, "hypercalls", total);
	append(&f, "ioreqs", s->ioreq_count);
	append(&f, "requests", s->request_count);
	append(&f, "yields", s->yield_count);
	append(&f, "ioreq_ns", s->ioreq_ns);
	append(&f, "idle_ns", s->idle_ns);
	append(&f, "now_ns", s->now_ns);
	append(&f, "mapped", s->mapped);
	append(&f, "frames_free", s->frames_free);
	append(&f, "out_of_order", s->out_of_order);
	for (unsigned int i = 0; i < STATS_HYPERCALL_NR_MAX; i++) {
		const char *name = hypercall_name(i);

		if (s->hypercall_counts[i] == 0)
			continue;
		if (name)
			snprintf(key, sizeof(key), "hc_%s", name);
		else
			snprintf(key, sizeof(key), "hc_%u", i);
		append(&f, key, s->hypercall_counts[i]);
	}
	return f.full ? -ENOSPC : (int)f.len;
}
