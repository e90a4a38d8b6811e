/*
 * Latency histograms: what vdisk measures of itself (request service time, IOREQ
 * turnaround), in nanoseconds of the virtual counter. Buckets are log-linear, four to each
 * power of two (HdrHistogram with two significant bits), so a value's bucket bounds it within
 * 25% from 1 ns to 2^40 ns (about 18 minutes; longer ones land in the last bucket). Adding a
 * value is a count-leading-zeros, two shifts and three increments: cheap enough for every
 * request.
 */
#ifndef LIB_HIST_H
#define LIB_HIST_H

#include <stddef.h>
#include <stdint.h>

/** Values up to 2^HIST_LOG2_MAX - 1 ns get their own bucket; the last one takes the rest. */
#define HIST_LOG2_MAX 40u
/** Buckets: 0..3 exact, then four for each power of two from 4 to 2^(HIST_LOG2_MAX - 1). */
#define HIST_BUCKETS ((HIST_LOG2_MAX - 1u) * 4u)

/** One histogram; all zeroes is an empty one. */
struct hist {
	uint64_t count;
	uint64_t sum_ns;
	uint64_t max_ns;
	uint32_t bucket[HIST_BUCKETS];
};

/** Counts one value. */
void hist_add(struct hist *h, uint64_t ns);
/** The bucket a value falls in. */
unsigned int hist_bucket(uint64_t ns);
/** The largest value bucket `i` holds (the last: UINT64_MAX). */
uint64_t hist_bucket_max(unsigned int i);
/**
 * The value at quantile `per_100k` (50000 = median, 99900 = p99.9): the largest value of
 * the bucket in which the count reaches it, and never more than the largest value counted;
 * 0 for an empty histogram.
 */
uint64_t hist_quantile(const struct hist *h, uint32_t per_100k);
/**
 * Writes `h` as "count=N mean_ns=N p50_ns=N p90_ns=N p99_ns=N p999_ns=N max_ns=N
 * buckets=MAX:COUNT,..." (each non-empty bucket by the largest value it holds), the text a
 * script (or tools/plot) reads. Returns the length, or -ENOSPC when `size` is too small
 * (buf then holds the fields that fitted, NUL-terminated).
 */
int hist_format(const struct hist *h, char *buf, size_t size);

#endif
