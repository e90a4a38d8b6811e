/* Unit tests for boot/backend_check.c: the keys libxl writes for a virtio disk. */
#include <errno.h>
#include <string.h>

#include "boot/backend.h"
#include "tests/unit/test.h"

struct keys {
	const char *frontend_id, *params, *mode, *base, *irq;
};

/* libxl 4.17's keys for `vdev=xvda, target=ram:64M` of domain 3 (see xen-rig.md). */
static const struct keys good = {"3", "ram:64M", "w", "33554432", "33"};

static int check(enum backend_layout layout, struct keys k, struct backend_config *cfg,
		 const char **key, const char **value, const char **why)
{
	*key = *value = *why = NULL;
	return backend_check(layout, 3, 51712, k.frontend_id, k.params, k.mode, k.base, k.irq, cfg,
			     key, value, why);
}

TEST(backend_check, libxl_417_keys)
{
	struct backend_config cfg;
	const char *key, *value, *why;

	EXPECT_EQ(check(BACKEND_VIRTIO_DISK, good, &cfg, &key, &value, &why), 0);
	EXPECT_EQ(cfg.frontend, 3);
	EXPECT_EQ(cfg.devid, 51712);
	EXPECT_EQ(cfg.base, 0x2000000);
	EXPECT_EQ(cfg.irq, 33);
	EXPECT_FALSE(cfg.read_only);
	EXPECT_EQ(cfg.target.size, 64ull << 20);
}

TEST(backend_check, read_only_and_the_hex_base_of_later_versions)
{
	struct backend_config cfg;
	const char *key, *value, *why;
	struct keys k = good;

	k.mode = "r";
	EXPECT_EQ(check(BACKEND_VIRTIO_DISK, k, &cfg, &key, &value, &why), 0);
	EXPECT_TRUE(cfg.read_only);
	k.base = "0x2000200";
	EXPECT_EQ(check(BACKEND_VIRTIO, k, &cfg, &key, &value, &why), 0);
	EXPECT_EQ(cfg.base, 0x2000200);
	/* The 4.17 layout is decimal: a hex base there is an error, not a guess. */
	EXPECT_EQ(check(BACKEND_VIRTIO_DISK, k, &cfg, &key, &value, &why), -EINVAL);
	EXPECT_STREQ(key, "base");
	EXPECT_STREQ(value, "0x2000200");
}

TEST(backend_check, each_bad_key_is_named_with_its_value)
{
	static const struct {
		const char *key, *value, *why;
	} cases[] = {
		{"frontend-id", "4", "is not the domain id in the directory name"},
		{"frontend-id", "-3", "is not the domain id in the directory name"},
		{"base", "33554433", "is not a decimal address aligned to 0x200"},
		{"base", "0", "is not a decimal address aligned to 0x200"},
		{"base", "18446744073709551104", "is not a decimal address aligned to 0x200"},
		{"irq", "31", "is not an SPI (32 to 1019)"},
		{"irq", "1020", "is not an SPI (32 to 1019)"},
		{"irq", " 33", "is not an SPI (32 to 1019)"},
		{"mode", "rw", "is neither \"r\" nor \"w\""},
		{"params", "phy:/dev/sda", "expected ram:SIZE, mmc:CARD or mmc:CARD:PART"},
		{"params", "ram:64X", "size suffix must be K, M or G"},
	};
	struct backend_config cfg;
	const char *key, *value, *why;

	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct keys k = good;

		if (!strcmp(cases[i].key, "frontend-id"))
			k.frontend_id = cases[i].value;
		else if (!strcmp(cases[i].key, "base"))
			k.base = cases[i].value;
		else if (!strcmp(cases[i].key, "irq"))
			k.irq = cases[i].value;
		else if (!strcmp(cases[i].key, "mode"))
			k.mode = cases[i].value;
		else
			k.params = cases[i].value;
		EXPECT_EQ(check(BACKEND_VIRTIO_DISK, k, &cfg, &key, &value, &why), -EINVAL);
		EXPECT_STREQ(key, cases[i].key);
		EXPECT_STREQ(value, cases[i].value);
		EXPECT_STREQ(why, cases[i].why);
	}
}

TEST(backend_check, missing_keys)
{
	struct backend_config cfg;
	const char *key, *value, *why;
	struct keys k = good;

	k.params = NULL;
	EXPECT_EQ(check(BACKEND_VIRTIO_DISK, k, &cfg, &key, &value, &why), -EINVAL);
	EXPECT_STREQ(key, "params");
	EXPECT_TRUE(value == NULL);
	EXPECT_STREQ(why, "is missing");
	/* libxl always writes mode; without it the disk is writable, as mode "w". */
	k = good;
	k.mode = NULL;
	EXPECT_EQ(check(BACKEND_VIRTIO_DISK, k, &cfg, &key, &value, &why), 0);
	EXPECT_FALSE(cfg.read_only);
	k = good;
	k.irq = NULL;
	EXPECT_EQ(check(BACKEND_VIRTIO_DISK, k, &cfg, &key, &value, &why), -EINVAL);
	EXPECT_STREQ(key, "irq");
}
