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
	EXPECT_STREQ(why, "expected ram:SIZE");
	EXPECT_EQ(parse("/dev/sda", &t, &why), -EINVAL);
	EXPECT_STREQ(why, "expected ram:SIZE");
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
