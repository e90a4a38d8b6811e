/* Unit tests for blk/target.c: xl's target= string (xenstore params) for vdisk disks. */
#include <errno.h>

#include "blk/target.h"
#include "tests/unit/test.h"

static int parse(const char *s, struct target *t, const char **why)
{
	*why = NULL;
	return target_parse(s, t, why);
}

TEST(target, ram_sizes_with_suffixes)
{
	struct target t;
	const char *why;

	EXPECT_EQ(parse("ram:64M", &t, &why), 0);
	EXPECT_EQ(t.kind, TARGET_RAM);
	EXPECT_EQ(t.size, 64ull << 20);
	EXPECT_EQ(parse("ram:512", &t, &why), 0);
	EXPECT_EQ(t.size, 512);
	EXPECT_EQ(parse("ram:4k", &t, &why), 0);
	EXPECT_EQ(t.size, 4096);
	EXPECT_EQ(parse("ram:2G", &t, &why), 0);
	EXPECT_EQ(t.size, 2ull << 30);
	EXPECT_EQ(parse("ram:1024G", &t, &why), 0);
	EXPECT_EQ(t.size, TARGET_RAM_MAX);
	EXPECT_TRUE(why == NULL);
}

TEST(target, bad_targets_say_why)
{
	struct target t;
	const char *why;

	EXPECT_EQ(parse("", &t, &why), -EINVAL);
	EXPECT_STREQ(why, "expected ram:SIZE, mmc:CARD or mmc:CARD:PART");
	EXPECT_EQ(parse("/dev/sda", &t, &why), -EINVAL);
	EXPECT_STREQ(why, "expected ram:SIZE, mmc:CARD or mmc:CARD:PART");
	EXPECT_EQ(parse("ram:", &t, &why), -EINVAL);
	EXPECT_STREQ(why, "size must start with a digit");
	EXPECT_EQ(parse("ram:-1M", &t, &why), -EINVAL);
	EXPECT_EQ(parse("ram:64T", &t, &why), -EINVAL);
	EXPECT_STREQ(why, "size suffix must be K, M or G");
	EXPECT_EQ(parse("ram:64MB", &t, &why), -EINVAL);
	EXPECT_STREQ(why, "unexpected characters after the size");
	EXPECT_EQ(parse("ram:0", &t, &why), -EINVAL);
	EXPECT_STREQ(why, "size must be a non-zero multiple of 512 bytes");
	EXPECT_EQ(parse("ram:1000", &t, &why), -EINVAL);
	EXPECT_STREQ(why, "size must be a non-zero multiple of 512 bytes");
	EXPECT_EQ(parse("ram:1025G", &t, &why), -EINVAL);
	EXPECT_STREQ(why, "size is larger than 1T");
	EXPECT_EQ(parse("ram:99999999999999999999999", &t, &why), -EINVAL);
	EXPECT_STREQ(why, "size is larger than 1T");
	EXPECT_EQ(parse("ram:18446744073709551615", &t, &why), -EINVAL);
	EXPECT_STREQ(why, "size is larger than 1T");
}

TEST(target, ram_with_latency)
{
	struct target t;
	const char *why;

	EXPECT_EQ(parse("ram:16M,latency=2ms", &t, &why), 0);
	EXPECT_EQ(t.size, 16ull << 20);
	EXPECT_EQ(t.latency_min_ns, 2000000);
	EXPECT_EQ(parse("ram:64K,latency=5s", &t, &why), 0);
	EXPECT_EQ(t.latency_min_ns, 5000000000ull);
	EXPECT_EQ(parse("ram:1M,latency=250us", &t, &why), 0);
	EXPECT_EQ(t.latency_min_ns, 250000);
	EXPECT_EQ(parse("ram:1M,latency=60000000000ns", &t, &why), 0);
	EXPECT_EQ(t.latency_min_ns, 60000000000ull);
	EXPECT_EQ(parse("ram:1M", &t, &why), 0);
	EXPECT_EQ(t.latency_min_ns, 0);
	EXPECT_EQ(t.latency_max_ns, 0);
	EXPECT_TRUE(why == NULL);
}

TEST(target, one_latency_is_its_own_range)
{
	struct target t = {.latency_max_ns = 12345};
	const char *why;

	EXPECT_EQ(parse("ram:16M,latency=2ms", &t, &why), 0);
	EXPECT_EQ(t.latency_min_ns, 2000000);
	EXPECT_EQ(t.latency_max_ns, 2000000);
	EXPECT_EQ(parse("ram:16M,latency=0ns", &t, &why), 0);
	EXPECT_EQ(t.latency_min_ns, 0);
	EXPECT_EQ(t.latency_max_ns, 0);
	/* A range first, then none: nothing of it is left. */
	EXPECT_EQ(parse("ram:1M,latency=1ms-2ms", &t, &why), 0);
	EXPECT_EQ(parse("ram:1M", &t, &why), 0);
	EXPECT_EQ(t.latency_max_ns, 0);
	EXPECT_TRUE(why == NULL);
}

TEST(target, ram_with_a_latency_range)
{
	struct target t;
	const char *why;

	EXPECT_EQ(parse("ram:16M,latency=50us-2ms", &t, &why), 0);
	EXPECT_EQ(t.kind, TARGET_RAM);
	EXPECT_EQ(t.size, 16ull << 20);
	EXPECT_EQ(t.latency_min_ns, 50000);
	EXPECT_EQ(t.latency_max_ns, 2000000);
	EXPECT_EQ(parse("ram:1M,latency=1ms-1ms", &t, &why), 0);
	EXPECT_EQ(t.latency_min_ns, 1000000);
	EXPECT_EQ(t.latency_max_ns, 1000000);
	EXPECT_EQ(parse("ram:1M,latency=0ns-1s", &t, &why), 0);
	EXPECT_EQ(t.latency_min_ns, 0);
	EXPECT_EQ(t.latency_max_ns, 1000000000);
	EXPECT_EQ(parse("ram:1M,latency=999999us-1s", &t, &why), 0);
	EXPECT_EQ(t.latency_min_ns, 999999000);
	EXPECT_EQ(t.latency_max_ns, 1000000000);
	EXPECT_EQ(parse("ram:1M,latency=1ns-60s", &t, &why), 0);
	EXPECT_EQ(t.latency_min_ns, 1);
	EXPECT_EQ(t.latency_max_ns, TARGET_LATENCY_MAX_NS);
	EXPECT_TRUE(why == NULL);
}

TEST(target, bad_latency_range_says_why)
{
	struct target t;
	const char *why;

	EXPECT_EQ(parse("ram:1M,latency=2ms-50us", &t, &why), -EINVAL);
	EXPECT_STREQ(why, "latency range must go from the shorter to the longer time");
	EXPECT_EQ(parse("ram:1M,latency=1001ns-1us", &t, &why), -EINVAL);
	EXPECT_STREQ(why, "latency range must go from the shorter to the longer time");
	EXPECT_EQ(parse("ram:1M,latency=50us-", &t, &why), -EINVAL);
	EXPECT_STREQ(why, "latency range needs a time after the '-' (MIN-MAX)");
	EXPECT_EQ(parse("ram:1M,latency=-2ms", &t, &why), -EINVAL);
	EXPECT_STREQ(why, "latency must start with a digit");
	EXPECT_EQ(parse("ram:1M,latency=50-2ms", &t, &why), -EINVAL);
	EXPECT_STREQ(why, "latency must end in ns, us, ms or s");
	EXPECT_EQ(parse("ram:1M,latency=50us-2msx", &t, &why), -EINVAL);
	EXPECT_STREQ(why, "latency must end in ns, us, ms or s");
	EXPECT_EQ(parse("ram:1M,latency=50us-2ms-3ms", &t, &why), -EINVAL);
	EXPECT_STREQ(why, "latency must end in ns, us, ms or s");
	EXPECT_EQ(parse("ram:1M,latency=50us-2ms,latency=1ms", &t, &why), -EINVAL);
	EXPECT_STREQ(why, "latency must end in ns, us, ms or s");
	EXPECT_EQ(parse("ram:1M,latency=50us--2ms", &t, &why), -EINVAL);
	EXPECT_STREQ(why, "latency must start with a digit");
	EXPECT_EQ(parse("ram:1M,latency=1s-61s", &t, &why), -EINVAL);
	EXPECT_STREQ(why, "latency is longer than 60 s");
	EXPECT_EQ(parse("ram:1M,latency=1s-60000000001ns", &t, &why), -EINVAL);
	EXPECT_STREQ(why, "latency is longer than 60 s");
	EXPECT_EQ(parse("ram:1M,latency=61s-62s", &t, &why), -EINVAL);
	EXPECT_STREQ(why, "latency is longer than 60 s");
}

TEST(target, bad_latency_says_why)
{
	struct target t;
	const char *why;

	EXPECT_EQ(parse("ram:1M,latency=", &t, &why), -EINVAL);
	EXPECT_STREQ(why, "latency must start with a digit");
	EXPECT_EQ(parse("ram:1M,latency=5", &t, &why), -EINVAL);
	EXPECT_STREQ(why, "latency must end in ns, us, ms or s");
	EXPECT_EQ(parse("ram:1M,latency=5m", &t, &why), -EINVAL);
	EXPECT_STREQ(why, "latency must end in ns, us, ms or s");
	EXPECT_EQ(parse("ram:1M,latency=61s", &t, &why), -EINVAL);
	EXPECT_STREQ(why, "latency is longer than 60 s");
	EXPECT_EQ(parse("ram:1M,latency=60001ms", &t, &why), -EINVAL);
	EXPECT_STREQ(why, "latency is longer than 60 s");
	EXPECT_EQ(parse("ram:1M,latency=99999999999999999999ns", &t, &why), -EINVAL);
	EXPECT_STREQ(why, "latency is longer than 60 s");
	EXPECT_EQ(parse("ram:1M,delay=5ms", &t, &why), -EINVAL);
	EXPECT_STREQ(why, "the only option after the size is latency=TIME or latency=MIN-MAX");
	EXPECT_EQ(parse("ram:1M,", &t, &why), -EINVAL);
	EXPECT_EQ(parse("ram:,latency=5ms", &t, &why), -EINVAL);
	EXPECT_STREQ(why, "size must start with a digit");
	EXPECT_EQ(parse("ram:1Mx,latency=5ms", &t, &why), -EINVAL);
	EXPECT_STREQ(why, "unexpected characters after the size");
	EXPECT_EQ(parse("ram:1M,latency=5ms,latency=5ms", &t, &why), -EINVAL);
	EXPECT_STREQ(why, "latency must end in ns, us, ms or s");
}

TEST(target, mmc_cards_and_partitions)
{
	struct target t;
	const char *why;

	EXPECT_EQ(parse("mmc:0", &t, &why), 0);
	EXPECT_EQ(t.kind, TARGET_MMC);
	EXPECT_EQ(t.card, 0);
	EXPECT_EQ(t.part, 0);
	EXPECT_EQ(parse("mmc:1:2", &t, &why), 0);
	EXPECT_EQ(t.card, 1);
	EXPECT_EQ(t.part, 2);
	EXPECT_EQ(parse("mmc:7:128", &t, &why), 0);
	EXPECT_EQ(t.part, 128);
	EXPECT_TRUE(why == NULL);
	EXPECT_EQ(parse("mmc:", &t, &why), -EINVAL);
	EXPECT_STREQ(why, "card must be a number from 0 to 7 (mmc:CARD or mmc:CARD:PART)");
	EXPECT_EQ(parse("mmc:8", &t, &why), -EINVAL);
	EXPECT_EQ(parse("mmc:0x1", &t, &why), -EINVAL);
	EXPECT_EQ(parse("mmc:0:", &t, &why), -EINVAL);
	EXPECT_STREQ(why, "partition must be a number from 1 to 128 (mmc:CARD:PART)");
	EXPECT_EQ(parse("mmc:0:0", &t, &why), -EINVAL);
	EXPECT_EQ(parse("mmc:0:129", &t, &why), -EINVAL);
	EXPECT_EQ(parse("mmc:0:1:2", &t, &why), -EINVAL);
	EXPECT_EQ(parse("mmc:0:99999999999", &t, &why), -EINVAL);
	EXPECT_EQ(parse("mmc:0:2,latency=1ms", &t, &why), -EINVAL);
}
