/* hyp/xs_ring.c: the xenstore ring's byte copies, index wrap-around and index checks. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <xen/xen.h>
#include <xen/io/xs_wire.h>

#include "hyp/xs_ring.h"
#include "tests/unit/test.h"

static struct xenstore_domain_interface intf;

/* An empty ring whose four indexes all start at idx. */
static void reset(XENSTORE_RING_IDX idx)
{
	memset(&intf, 0, sizeof(intf));
	intf.req_cons = intf.req_prod = idx;
	intf.rsp_cons = intf.rsp_prod = idx;
}

/* Fills buf with a pattern that differs at every offset below 251. */
static void pattern(char *buf, size_t len, unsigned int seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (char)((i + seed) % 251 + 1);
}

/* Puts len bytes into the response ring as xenstored would, starting at rsp_prod. */
static void peer_put(const char *data, size_t len)
{
	for (size_t i = 0; i < len; i++)
		intf.rsp[MASK_XENSTORE_IDX(intf.rsp_prod + i)] = data[i];
	intf.rsp_prod += (XENSTORE_RING_IDX)len;
}

TEST(xs_ring, write_places_bytes_at_prod_and_publishes)
{
	reset(10);
	EXPECT_EQ(xs_ring_write(&intf, "hello", 5), 5);
	EXPECT_MEMEQ(intf.req + 10, "hello", 5);
	EXPECT_EQ(intf.req_prod, 15);
	EXPECT_EQ(intf.req_cons, 10);
	EXPECT_EQ(intf.req[9], 0);
	EXPECT_EQ(intf.req[15], 0);
}

TEST(xs_ring, write_wraps_at_ring_end)
{
	char data[100];

	reset(1000);
	pattern(data, sizeof(data), 3);
	EXPECT_EQ(xs_ring_write(&intf, data, sizeof(data)), 100);
	EXPECT_MEMEQ(intf.req + 1000, data, 24);
	EXPECT_MEMEQ(intf.req, data + 24, 76);
	EXPECT_EQ(intf.req_prod, 1100);
}

TEST(xs_ring, write_wraps_at_2_pow_32)
{
	char data[30];

	/* 2^32 is a multiple of the ring size: the index and the offset wrap together. */
	reset(UINT32_MAX - 9);
	pattern(data, sizeof(data), 7);
	EXPECT_EQ(xs_ring_write(&intf, data, sizeof(data)), 30);
	EXPECT_MEMEQ(intf.req + 1014, data, 10);
	EXPECT_MEMEQ(intf.req, data + 10, 20);
	EXPECT_EQ(intf.req_prod, 20);
}

TEST(xs_ring, write_room_counts_across_2_pow_32)
{
	char data[600];

	/* prod has wrapped past 2^32, cons has not: 500 bytes are in flight. */
	reset(UINT32_MAX - 99);
	intf.req_prod = intf.req_cons + 500;
	pattern(data, sizeof(data), 1);
	EXPECT_EQ(xs_ring_write(&intf, data, sizeof(data)), 524);
	EXPECT_EQ(intf.req_prod, (XENSTORE_RING_IDX)(UINT32_MAX - 99 + 1024));
	EXPECT_EQ(intf.req[MASK_XENSTORE_IDX(UINT32_MAX - 99 + 500)], data[0]);
	EXPECT_EQ(intf.req[MASK_XENSTORE_IDX(UINT32_MAX - 99 + 1023)], data[523]);
}

TEST(xs_ring, write_is_partial_when_nearly_full)
{
	reset(0);
	intf.req_prod = 1020;
	EXPECT_EQ(xs_ring_write(&intf, "0123456789", 10), 4);
	EXPECT_MEMEQ(intf.req + 1020, "0123", 4);
	EXPECT_EQ(intf.req_prod, 1024);
	EXPECT_EQ(intf.req[0], 0);
	/* Full: nothing more fits, and nothing is overwritten. */
	EXPECT_EQ(xs_ring_write(&intf, "x", 1), 0);
	EXPECT_EQ(intf.req_prod, 1024);
	EXPECT_EQ(intf.req[0], 0);
	/* The peer consumes 3 bytes: exactly 3 fit again. */
	intf.req_cons = 3;
	EXPECT_EQ(xs_ring_write(&intf, "abcdef", 6), 3);
	EXPECT_MEMEQ(intf.req, "abc", 3);
	EXPECT_EQ(intf.req_prod, 1027);
}

TEST(xs_ring, write_of_zero_bytes_changes_nothing)
{
	reset(77);
	EXPECT_EQ(xs_ring_write(&intf, "", 0), 0);
	EXPECT_EQ(intf.req_prod, 77);
}

TEST(xs_ring, write_rejects_indexes_more_than_a_ring_apart)
{
	reset(0);
	intf.req_prod = 1025;
	EXPECT_EQ(xs_ring_write(&intf, "abc", 3), -EIO);
	EXPECT_EQ(intf.req_prod, 1025);

	/* The consumer claims to be ahead of the producer. */
	reset(500);
	intf.req_cons = 501;
	EXPECT_EQ(xs_ring_write(&intf, "abc", 3), -EIO);
	EXPECT_EQ(intf.req_prod, 500);
	EXPECT_EQ(intf.req[MASK_XENSTORE_IDX(500)], 0);

	/* Exactly a ring apart is merely full. */
	reset(UINT32_MAX);
	intf.req_prod = UINT32_MAX + 1024u;
	EXPECT_EQ(xs_ring_write(&intf, "abc", 3), 0);
}

TEST(xs_ring, read_returns_what_is_there_and_frees_it)
{
	char buf[16] = {0};

	reset(40);
	peer_put("hello", 5);
	EXPECT_EQ(xs_ring_pending(&intf), 5);
	EXPECT_EQ(xs_ring_read(&intf, buf, sizeof(buf)), 5);
	EXPECT_MEMEQ(buf, "hello", 5);
	EXPECT_EQ(intf.rsp_cons, 45);
	EXPECT_EQ(xs_ring_pending(&intf), 0);
	EXPECT_EQ(xs_ring_read(&intf, buf, sizeof(buf)), 0);
	EXPECT_EQ(intf.rsp_cons, 45);
}

TEST(xs_ring, read_of_part_leaves_the_rest)
{
	char buf[8] = {0};

	reset(0);
	peer_put("abcdefgh", 8);
	EXPECT_EQ(xs_ring_read(&intf, buf, 3), 3);
	EXPECT_MEMEQ(buf, "abc", 3);
	EXPECT_EQ(xs_ring_pending(&intf), 5);
	EXPECT_EQ(xs_ring_read(&intf, buf, 8), 5);
	EXPECT_MEMEQ(buf, "defgh", 5);
	EXPECT_EQ(intf.rsp_cons, 8);
}

TEST(xs_ring, read_wraps_at_ring_end)
{
	char data[200], buf[200];

	reset(900);
	pattern(data, sizeof(data), 11);
	peer_put(data, sizeof(data));
	EXPECT_EQ(xs_ring_read(&intf, buf, sizeof(buf)), 200);
	EXPECT_MEMEQ(buf, data, 200);
	EXPECT_EQ(intf.rsp_cons, 1100);
}

TEST(xs_ring, read_wraps_at_2_pow_32)
{
	char data[1024], buf[1024];

	/* A full ring whose producer index has wrapped to a small number. */
	reset(UINT32_MAX - 511);
	pattern(data, sizeof(data), 5);
	peer_put(data, sizeof(data));
	EXPECT_EQ(intf.rsp_prod, 512);
	EXPECT_EQ(xs_ring_pending(&intf), 1024);
	EXPECT_EQ(xs_ring_read(&intf, buf, 1000), 1000);
	EXPECT_MEMEQ(buf, data, 1000);
	EXPECT_EQ(xs_ring_read(&intf, buf, 1000), 24);
	EXPECT_MEMEQ(buf, data + 1000, 24);
	EXPECT_EQ(intf.rsp_cons, 512);
}

TEST(xs_ring, read_rejects_indexes_more_than_a_ring_apart)
{
	char buf[4] = {0};

	reset(0);
	intf.rsp_prod = 1025;
	EXPECT_EQ(xs_ring_pending(&intf), -EIO);
	EXPECT_EQ(xs_ring_read(&intf, buf, sizeof(buf)), -EIO);
	EXPECT_EQ(intf.rsp_cons, 0);

	reset(UINT32_MAX - 5);
	intf.rsp_prod = intf.rsp_cons - 1; /* producer behind the consumer */
	EXPECT_EQ(xs_ring_pending(&intf), -EIO);
	EXPECT_EQ(xs_ring_read(&intf, buf, sizeof(buf)), -EIO);
	EXPECT_EQ(intf.rsp_cons, UINT32_MAX - 5);
}

TEST(xs_ring, directions_are_independent)
{
	char buf[4] = {0};

	reset(0);
	EXPECT_EQ(xs_ring_write(&intf, "req", 3), 3);
	EXPECT_EQ(xs_ring_pending(&intf), 0);
	EXPECT_EQ(xs_ring_read(&intf, buf, sizeof(buf)), 0);
	peer_put("rsp", 3);
	EXPECT_EQ(intf.req_prod, 3);
	EXPECT_EQ(xs_ring_read(&intf, buf, sizeof(buf)), 3);
	EXPECT_MEMEQ(buf, "rsp", 3);
	EXPECT_MEMEQ(intf.req, "req", 3);
}
