/*
 * blk/part.c: MBR primaries and logicals, GPT with its backup, and tables that do not hold
 * together, on disk images built here byte by byte.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "blk/part.h"
#include "tests/unit/test.h"

#define SECTORS 4096u

static uint8_t img[SECTORS * 512];
static unsigned int reads;

static int read_img(void *ctx, uint64_t sector, void *buf)
{
	reads++;
	if (sector >= SECTORS)
		return -EIO; /* the parser must never ask */
	memcpy(buf, img + sector * 512, 512);
	return 0;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (unsigned int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> 8 * i);
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

/* MBR/EBR entry i of sector `s`. */
static void mbr(uint64_t s, unsigned int i, uint8_t type, uint32_t start, uint32_t count)
{
	uint8_t *e = img + s * 512 + 446 + 16 * i;

	e[4] = type;
	put32(e + 8, start);
	put32(e + 12, count);
	img[s * 512 + 510] = 0x55;
	img[s * 512 + 511] = 0xaa;
}

static int find(unsigned int n, struct part *p, const char **why)
{
	return part_find(read_img, NULL, SECTORS, n, p, why);
}

TEST(part, crc32_is_ieee)
{
	EXPECT_EQ(part_crc32(0, "123456789", 9), 0xcbf43926u);
	EXPECT_EQ(part_crc32(part_crc32(0, "1234", 4), "56789", 5), 0xcbf43926u);
}

TEST(part, mbr_primaries_and_logicals)
{
	struct part p;
	const char *why;

	memset(img, 0, sizeof(img));
	mbr(0, 0, 0x83, 8, 100);
	mbr(0, 1, 0x0c, 200, 300);
	mbr(0, 2, 0x05, 1000, 2000); /* extended: 1000..2999 */
	mbr(1000, 0, 0x83, 10, 90);  /* logical 5 at 1010 */
	mbr(1000, 1, 0x05, 500, 600);
	mbr(1500, 0, 0x83, 20, 80); /* logical 6 at 1520 */
	EXPECT_EQ(find(1, &p, &why), 0);
	EXPECT_EQ(p.first, 8);
	EXPECT_EQ(p.count, 100);
	EXPECT_EQ(find(2, &p, &why), 0);
	EXPECT_EQ(p.first, 200);
	EXPECT_EQ(find(3, &p, &why), -EINVAL);
	EXPECT_CONTAINS(why, "extended");
	EXPECT_EQ(find(4, &p, &why), -ENOENT);
	EXPECT_EQ(find(5, &p, &why), 0);
	EXPECT_EQ(p.first, 1010);
	EXPECT_EQ(p.count, 90);
	EXPECT_EQ(find(6, &p, &why), 0);
	EXPECT_EQ(p.first, 1520);
	EXPECT_EQ(p.count, 80);
	EXPECT_EQ(find(7, &p, &why), -ENOENT);
	EXPECT_EQ(find(0, &p, &why), -ENOENT);
	EXPECT_EQ(find(PART_MAX + 1, &p, &why), -ENOENT);
}

TEST(part, bad_mbrs_are_refused)
{
	struct part p;
	const char *why;

	memset(img, 0, sizeof(img));
	EXPECT_EQ(find(1, &p, &why), -ENOENT); /* no 55 aa: no table */
	mbr(0, 0, 0x83, 4000, 200);            /* past the end */
	EXPECT_EQ(find(1, &p, &why), -EINVAL);
	EXPECT_CONTAINS(why, "not on the disk");
	mbr(0, 0, 0x83, 0, 10); /* over the MBR itself */
	EXPECT_EQ(find(1, &p, &why), -EINVAL);
	mbr(0, 0, 0x83, 1, 0xffffffffu);
	EXPECT_EQ(find(1, &p, &why), -EINVAL);

	/* A logical partition outside its extended one; a chain that loops back. */
	mbr(0, 0, 0x05, 100, 100);
	mbr(100, 0, 0x83, 50, 60);
	EXPECT_EQ(find(5, &p, &why), -EINVAL);
	EXPECT_CONTAINS(why, "inside its extended");
	mbr(100, 0, 0x83, 1, 10);
	mbr(100, 1, 0x05, 0, 10); /* next at the same EBR: ends the chain */
	EXPECT_EQ(find(6, &p, &why), -ENOENT);
	mbr(100, 1, 0x05, 50, 10);
	mbr(150, 1, 0x05, 10, 10); /* back to 110 < 150 */
	mbr(150, 0, 0x83, 1, 5);
	EXPECT_EQ(find(7, &p, &why), -EINVAL);
	EXPECT_CONTAINS(why, "backwards");
}

/* A GPT: header at `lba` (entries at `entries`), entries from the table `parts` (first 0 = unused).
 */
static const struct {
	uint64_t first, last;
} parts[4] = {{34, 1033}, {0, 0}, {2048, 3071}, {3072, 4070}};

static void gpt_header(uint64_t lba, uint64_t alt, uint64_t entries)
{
	uint8_t *h = img + lba * 512, *e = img + entries * 512;

	memset(h, 0, 512);
	memset(e, 0, 32 * 512);
	for (unsigned int i = 0; i < 4; i++) {
		if (!parts[i].first)
			continue;
		e[128 * i] = 0xaf; /* some type GUID */
		put64(e + 128 * i + 32, parts[i].first);
		put64(e + 128 * i + 40, parts[i].last);
	}
	memcpy(h, "EFI PART", 8);
	put32(h + 8, 0x00010000);
	put32(h + 12, 92);
	put64(h + 24, lba);
	put64(h + 32, alt);
	put64(h + 40, 34);
	put64(h + 48, SECTORS - 34);
	put64(h + 72, entries);
	put32(h + 80, 128);
	put32(h + 84, 128);
	put32(h + 88, part_crc32(0, e, 128 * 128));
	put32(h + 16, part_crc32(0, h, 92));
}

static void make_gpt(void)
{
	memset(img, 0, sizeof(img));
	mbr(0, 0, 0xee, 1, SECTORS - 1);
	gpt_header(SECTORS - 1, 1, SECTORS - 33); /* the backup first: same entries */
	gpt_header(1, SECTORS - 1, 2);
}

TEST(part, gpt_entries_by_index)
{
	struct part p;
	const char *why;

	make_gpt();
	EXPECT_EQ(find(1, &p, &why), 0);
	EXPECT_EQ(p.first, 34);
	EXPECT_EQ(p.count, 1000);
	EXPECT_EQ(find(2, &p, &why), -ENOENT); /* an unused entry keeps its number */
	EXPECT_EQ(find(3, &p, &why), 0);
	EXPECT_EQ(p.first, 2048);
	EXPECT_EQ(p.count, 1024);
	EXPECT_EQ(find(5, &p, &why), -ENOENT);
	EXPECT_EQ(find(128, &p, &why), -ENOENT);
	/* Past the usable range. */
	EXPECT_EQ(find(4, &p, &why), -EINVAL);
	EXPECT_CONTAINS(why, "usable range");
}

TEST(part, gpt_backup_when_the_primary_is_damaged)
{
	struct part p;
	const char *why;

	make_gpt();
	img[512 + 40] ^= 1; /* primary header CRC breaks */
	EXPECT_EQ(find(3, &p, &why), 0);
	EXPECT_EQ(p.first, 2048);
	img[2 * 512 + 100] ^= 1; /* primary entries too: the backup's entries are elsewhere */
	EXPECT_EQ(find(1, &p, &why), 0);

	make_gpt();
	img[2 * 512 + 100] ^= 1; /* primary entries only */
	EXPECT_EQ(find(1, &p, &why), 0);
	img[(SECTORS - 33) * 512 + 100] ^= 1; /* and the backup's */
	EXPECT_EQ(find(1, &p, &why), -EINVAL);
	EXPECT_CONTAINS(why, "entry array CRC");

	make_gpt();
	memset(img + 512, 0, 512); /* no primary header at all */
	memset(img + (SECTORS - 1) * 512, 0, 512);
	EXPECT_EQ(find(1, &p, &why), -EINVAL);
	EXPECT_CONTAINS(why, "no GPT header");
}

TEST(part, gpt_headers_that_lie_are_refused)
{
	struct part p;
	const char *why;
	uint8_t *h = img + 512;

	make_gpt();
	memset(img + (SECTORS - 1) * 512, 0, 512); /* no backup to fall back on */
	put32(h + 84, 100);                        /* entry size */
	put32(h + 16, 0);
	put32(h + 16, part_crc32(0, h, 92));
	EXPECT_EQ(find(1, &p, &why), -EINVAL);
	EXPECT_CONTAINS(why, "entry size");

	make_gpt();
	memset(img + (SECTORS - 1) * 512, 0, 512);
	put32(h + 80, 0x7fffffff); /* entry count */
	put32(h + 16, 0);
	put32(h + 16, part_crc32(0, h, 92));
	EXPECT_EQ(find(1, &p, &why), -EINVAL);

	make_gpt();
	memset(img + (SECTORS - 1) * 512, 0, 512);
	put64(h + 72, SECTORS - 2); /* entries run off the disk */
	put32(h + 16, 0);
	put32(h + 16, part_crc32(0, h, 92));
	reads = 0;
	EXPECT_EQ(find(1, &p, &why), -EINVAL);
	EXPECT_CONTAINS(why, "not on the disk");

	make_gpt();
	memset(img + (SECTORS - 1) * 512, 0, 512);
	put32(h + 12, 600); /* header size */
	EXPECT_EQ(find(1, &p, &why), -EINVAL);
	EXPECT_CONTAINS(why, "header size");
}
