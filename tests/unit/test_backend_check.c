/* Unit tests for boot/backend_check.c: the keys libxl writes for a virtio disk. */
#include <errno.h>
#include <string.h>
#include <stdio.h>

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

/* vdisk.disk=: one disk of a domain with no xenstore, in xl's order (target last). */
static int parse_disk(const char *text, struct backend_config *cfg, const char **params,
                      const char **key, const char **value, const char **why)
{
	static char spec[128];

	snprintf(spec, sizeof(spec), "%s", text);
	*key = *value = *why = NULL;
	return backend_parse_disk(spec, 7, cfg, params, key, value, why);
}

TEST(backend_parse_disk, a_disk_and_a_read_only_one)
{
	struct backend_config cfg;
	const char *params, *key, *value, *why;

	EXPECT_EQ(parse_disk("domain=1,base=0x2000000,irq=33,target=ram:16M", &cfg, &params, &key,
	                     &value, &why),
	          0);
	EXPECT_EQ(cfg.frontend, 1);
	EXPECT_EQ(cfg.devid, 7);
	EXPECT_EQ(cfg.base, 0x2000000);
	EXPECT_EQ(cfg.irq, 33);
	EXPECT_FALSE(cfg.read_only);
	EXPECT_EQ(cfg.target.kind, TARGET_RAM);
	EXPECT_EQ(cfg.target.size, 16ull << 20);
	EXPECT_STREQ(params, "ram:16M");
	/* keys in any order but target, which keeps the rest */
	EXPECT_EQ(parse_disk("irq=34,access=ro,base=2000200,domain=2,target=mmc:0:2", &cfg, &params,
	                     &key, &value, &why),
	          0);
	EXPECT_EQ(cfg.frontend, 2);
	EXPECT_EQ(cfg.base, 0x2000200);
	EXPECT_TRUE(cfg.read_only);
	EXPECT_EQ(cfg.target.kind, TARGET_MMC);
	EXPECT_STREQ(params, "mmc:0:2");
}

TEST(backend_parse_disk, each_bad_key_is_named_with_its_value)
{
	static const struct {
		const char *spec, *key, *value, *why;
	} cases[] = {
	    {"", "domain", NULL, "is missing"},
	    {"domain=1,base=0x2000000,irq=33", "target", NULL, "is missing"},
	    {"domain=1,irq=33,target=ram:1M", "base", NULL, "is missing"},
	    {"domain=1,base=0x2000000,target=ram:1M", "irq", NULL, "is missing"},
	    {"domain=0,base=0x2000000,irq=33,target=ram:1M", "domain", "0",
	     "is not a guest's domain id (1 to 32751)"},
	    {"domain=x,base=0x2000000,irq=33,target=ram:1M", "domain", "x",
	     "is not a guest's domain id (1 to 32751)"},
	    {"domain=1,base=0x2000100,irq=33,target=ram:1M", "base", "0x2000100",
	     "is not a hex address aligned to 0x200"},
	    {"domain=1,base=0x2000000,irq=3,target=ram:1M", "irq", "3",
	     "is not an SPI (32 to 1019)"},
	    {"domain=1,base=0x2000000,irq=33,access=w,target=ram:1M", "access", "w",
	     "is neither ro nor rw"},
	    {"domain=1,base=0x2000000,irq=33,size=1,target=ram:1M", "size", "1",
	     "is not a key of vdisk.disk (domain, base, irq, access, target)"},
	    {"domain=1,base,irq=33,target=ram:1M", "base", NULL, "is not KEY=VALUE"},
	    {"domain=1,base=0x2000000,irq=33,target=disk:1M", "target", "disk:1M",
	     "expected ram:SIZE, mmc:CARD or mmc:CARD:PART"},
	};
	struct backend_config cfg;
	const char *params, *key, *value, *why;

	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		EXPECT_EQ(parse_disk(cases[i].spec, &cfg, &params, &key, &value, &why), -EINVAL);
		EXPECT_STREQ(key, cases[i].key);
		if (cases[i].value)
			EXPECT_STREQ(value, cases[i].value);
		else
			EXPECT_TRUE(value == NULL);
		EXPECT_STREQ(why, cases[i].why);
	}
}
