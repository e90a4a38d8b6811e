/* Latency histograms (see hist.h). */
#include <errno.h>
#include <stdbool.h>

#include "lib/fields.h"
#include "lib/hist.h"

unsigned int hist_bucket(uint64_t ns)
{
	unsigned int msb;

	if (ns < 4)
		return (unsigned int)ns;
	if (ns >> HIST_LOG2_MAX)
		return HIST_BUCKETS - 1;
	msb = 63u - (unsigned int)__builtin_clzll(ns);
	/* 4..7 are buckets 4..7; from 8 on each power of two 2^msb gives four of 2^(msb-2) */
	return (msb - 1u) * 4u + (unsigned int)(ns >> (msb - 2u) & 3u);
}

uint64_t hist_bucket_max(unsigned int i)
{
	unsigned int msb = i / 4u + 1u;

	if (i < 4)
		return i;
	if (i >= HIST_BUCKETS - 1)
		return UINT64_MAX;
	return ((uint64_t)(4u + i % 4u + 1u) << (msb - 2u)) - 1u;
}

void hist_add(struct hist *h, uint64_t ns)
{
	h->count++;
	h->sum_ns += ns;
	if (ns > h->max_ns)
		h->max_ns = ns;
	h->bucket[hist_bucket(ns)]++;
}

uint64_t hist_quantile(const struct hist *h, uint32_t per_100k)
{
	/* the rank reached: ceil(count * q), at least 1 */
	uint64_t rank = (h->count * per_100k + 99999u) / 100000u, seen = 0;

	if (h->count == 0)
		return 0;
	if (rank == 0)
		rank = 1;
	for (unsigned int i = 0; i < HIST_BUCKETS; i++) {
		seen += h->bucket[i];
		if (seen >= rank)
			return hist_bucket_max(i) < h->max_ns ? hist_bucket_max(i) : h->max_ns;
	}
	return h->max_ns;
}

int hist_format(const struct hist *h, char *buf, size_t size)
{
	static const struct {
		const char *name;
		uint32_t per_100k;
	} quantiles[] = {
	    {"p50_ns", 50000}, {"p90_ns", 90000}, {"p99_ns", 99000}, {"p999_ns", 99900}};
	struct fields f;
	bool first = true;

	fields_start(&f, buf, size);
	fields_add(&f, "count=%llu mean_ns=%llu", (unsigned long long)h->count,
	           (unsigned long long)(h->count ? h->sum_ns / h->count : 0));
	for (unsigned int i = 0; i < sizeof(quantiles) / sizeof(quantiles[0]); i++)
		fields_add(&f, " %s=%llu", quantiles[i].name,
		           (unsigned long long)hist_quantile(h, quantiles[i].per_100k));
	fields_add(&f, " max_ns=%llu buckets=", (unsigned long long)h->max_ns);
	for (unsigned int i = 0; i < HIST_BUCKETS; i++) {
		if (!h->bucket[i])
			continue;
		fields_add(&f, first ? "%llu:%u" : ",%llu:%u",
		           (unsigned long long)hist_bucket_max(i), h->bucket[i]);
		first = false;
	}
	return f.full ? -ENOSPC : (int)f.len;
}
