/* lib/hist.c: bucket bounds, quantiles and the text dom0 reads. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "lib/hist.h"
#include "tests/unit/test.h"

TEST(hist, every_value_lies_in_its_bucket_within_a_quarter)
{
	for (uint64_t v = 0; v < 100000; v++) {
		unsigned int i = hist_bucket(v);

		ASSERT_TRUE(i < HIST_BUCKETS);
		ASSERT_TRUE(v <= hist_bucket_max(i));
		ASSERT_TRUE(i == 0 || v > hist_bucket_max(i - 1));
		ASSERT_TRUE(hist_bucket_max(i) - v <= v / 4);
	}
	/* Powers of two and their neighbours up to the top, then past it. */
	for (unsigned int b = 2; b < HIST_LOG2_MAX; b++) {
		uint64_t p = 1ull << b;

		EXPECT_EQ(hist_bucket(p), hist_bucket(p - 1) + 1);
		EXPECT_EQ(hist_bucket_max(hist_bucket(p - 1)), p - 1);
	}
	EXPECT_EQ(hist_bucket((1ull << HIST_LOG2_MAX) - 1), HIST_BUCKETS - 1);
	EXPECT_EQ(hist_bucket(1ull << HIST_LOG2_MAX), HIST_BUCKETS - 1);
	EXPECT_EQ(hist_bucket(UINT64_MAX), HIST_BUCKETS - 1);
	EXPECT_EQ(hist_bucket_max(HIST_BUCKETS - 1), UINT64_MAX);
}

TEST(hist, quantiles_are_bucket_bounds_never_past_the_max)
{
	struct hist h = {0};

	EXPECT_EQ(hist_quantile(&h, 50000), 0);
	for (uint64_t v = 1; v <= 1000; v++)
		hist_add(&h, v * 1000); /* 1 us .. 1 ms */
	EXPECT_EQ(h.count, 1000);
	EXPECT_EQ(h.max_ns, 1000000);
	EXPECT_EQ(h.sum_ns, 500500000);
	/* The 500th value is 500 us: its bucket's top is within 25% above. */
	EXPECT_TRUE(hist_quantile(&h, 50000) >= 500000);
	EXPECT_TRUE(hist_quantile(&h, 50000) <= 625000);
	EXPECT_TRUE(hist_quantile(&h, 99000) >= 990000);
	EXPECT_EQ(hist_quantile(&h, 99900), 1000000); /* its bucket's top is past the max */
	EXPECT_EQ(hist_quantile(&h, 100000), 1000000);
	EXPECT_TRUE(hist_quantile(&h, 0) >= 1000 && hist_quantile(&h, 0) <= 1250);
	/* One slow outlier moves the max and p99.9, not the median. */
	hist_add(&h, 50000000);
	EXPECT_EQ(hist_quantile(&h, 100000), 50000000);
	EXPECT_TRUE(hist_quantile(&h, 50000) <= 625000);
}

TEST(hist, format_is_fields_then_the_non_empty_buckets)
{
	struct hist h = {0};
	char buf[512];
	int len;

	len = hist_format(&h, buf, sizeof(buf));
	EXPECT_STREQ(buf,
	             "count=0 mean_ns=0 p50_ns=0 p90_ns=0 p99_ns=0 p999_ns=0 max_ns=0 buckets=");
	EXPECT_EQ(len, (int)strlen(buf));
	hist_add(&h, 3);
	hist_add(&h, 3);
	hist_add(&h, 1000);
	len = hist_format(&h, buf, sizeof(buf));
	EXPECT_STREQ(buf, "count=3 mean_ns=335 p50_ns=3 p90_ns=1000 p99_ns=1000 p999_ns=1000 "
	                  "max_ns=1000 buckets=3:2,1023:1");
	EXPECT_EQ(len, (int)strlen(buf));
	/* Too small: whole fields only, and the error. */
	EXPECT_EQ(hist_format(&h, buf, 30), -ENOSPC);
	EXPECT_STREQ(buf, "count=3 mean_ns=335 p50_ns=3");
	EXPECT_EQ(hist_format(&h, buf, 0), -ENOSPC);
}
