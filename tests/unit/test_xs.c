/*
 * hyp/xs.c against an in-test xenstored: a peer that reads requests from a real
 * struct xenstore_domain_interface in memory, keeps a small tree, and writes replies and
 * watch events back, optionally a few bytes at a time. The firmware's calls out of xs.c
 * (evtchn_send, evtchn_bind, xen_yield, and the wait given to xs_use_evtchn) are seams
 * defined here: each runs one step of the peer and moves the fake clock, so timeouts take
 * no real time.
 * Every XS_TEST runs twice: polling (before xs_use_evtchn) and in event-channel mode.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xen/xen.h>
#include <xen/io/xs_wire.h>

#include "arch/fake.h"
#include "boot/loop.h"
#include "hyp/evtchn.h"
#include "hyp/xen.h"
#include "hyp/xs.h"
#include "lib/log.h"
#include "tests/unit/log_capture.h"
#include "tests/unit/test.h"

#define XS_PORT          5
#define STEP_NS          1000000ull /* each wait for the peer takes 1 ms of fake time */
#define NODE_COUNT       32
#define LOG_COUNT        64
#define PEER_WATCH_COUNT 20

/* ---- the peer ------------------------------------------------------------ */

struct node {
	bool used;
	char path[128];
	char value[XENSTORE_PAYLOAD_MAX];
	size_t len;
};

struct logged_request {
	struct xsd_sockmsg hdr;
	char body[XENSTORE_PAYLOAD_MAX + 1];
};

struct peer_watch {
	bool used;
	char path[128];
	char token[16];
};

/* Handles a request instead of the default xenstored behaviour when it returns true. */
typedef bool (*peer_hook_fn)(const struct xsd_sockmsg *hdr, const char *body);

static struct xenstore_domain_interface intf;

static struct {
	/* The request being reassembled from the request ring. */
	char in[sizeof(struct xsd_sockmsg) + XENSTORE_PAYLOAD_MAX];
	size_t in_len;
	/* Bytes waiting to go into the response ring. */
	char out[64 * 1024];
	size_t out_len, out_pos;
	/* Piece sizes cycled through when writing the response ring (none: all that fits). */
	const unsigned int *chunks;
	size_t chunk_count, chunk_next;
	bool silent;            /* queues replies but never sends them */
	uint64_t hold_until_ns; /* sends nothing before this fake time */
	bool event_raised;      /* sent something since the last upcall */
	unsigned int pushes;    /* writes into the response ring */

	struct logged_request log[LOG_COUNT];
	unsigned int req_count;
	struct node nodes[NODE_COUNT];
	struct peer_watch watches[PEER_WATCH_COUNT];
	uint32_t next_txn;
	unsigned int eagain_left; /* commits still to answer with EAGAIN */
	peer_hook_fn hook;
} peer;

static void peer_send(uint32_t type, uint32_t req_id, uint32_t tx_id, const void *body,
                      uint32_t len)
{
	struct xsd_sockmsg hdr = {.type = type, .req_id = req_id, .tx_id = tx_id, .len = len};

	if (peer.out_len + sizeof(hdr) + len > sizeof(peer.out)) {
		fprintf(stderr, "test peer: output buffer full\n");
		abort();
	}
	memcpy(peer.out + peer.out_len, &hdr, sizeof(hdr));
	memcpy(peer.out + peer.out_len + sizeof(hdr), body, len);
	peer.out_len += sizeof(hdr) + len;
}

/* A reply whose payload is a string with its NUL, as xenstored sends "OK". */
static void peer_reply_str(const struct xsd_sockmsg *req, uint32_t type, const char *s)
{
	peer_send(type, req->req_id, req->tx_id, s, (uint32_t)strlen(s) + 1);
}

static void peer_error(const struct xsd_sockmsg *req, const char *err)
{
	peer_reply_str(req, XS_ERROR, err);
}

static void peer_event(const char *path, const char *token)
{
	char body[600];
	size_t lp = strlen(path) + 1, lt = strlen(token) + 1;

	memcpy(body, path, lp);
	memcpy(body + lp, token, lt);
	peer_send(XS_WATCH_EVENT, 0, 0, body, (uint32_t)(lp + lt));
}

static struct node *peer_find(const char *path)
{
	for (int i = 0; i < NODE_COUNT; i++)
		if (peer.nodes[i].used && strcmp(peer.nodes[i].path, path) == 0)
			return &peer.nodes[i];
	return NULL;
}

static struct node *peer_set(const char *path, const char *value, size_t len)
{
	struct node *n = peer_find(path);

	for (int i = 0; !n && i < NODE_COUNT; i++)
		if (!peer.nodes[i].used)
			n = &peer.nodes[i];
	if (!n || strlen(path) >= sizeof(n->path) || len > sizeof(n->value)) {
		fprintf(stderr, "test peer: tree full\n");
		abort();
	}
	n->used = true;
	snprintf(n->path, sizeof(n->path), "%s", path);
	memcpy(n->value, value, len);
	n->len = len;
	return n;
}

/* Whether path is base or below it. */
static bool peer_under(const char *path, const char *base)
{
	size_t lb = strlen(base);

	return strncmp(path, base, lb) == 0 && (path[lb] == '\0' || path[lb] == '/');
}

static void peer_fire_watches(const char *path)
{
	for (int i = 0; i < PEER_WATCH_COUNT; i++)
		if (peer.watches[i].used && peer_under(path, peer.watches[i].path))
			peer_event(path, peer.watches[i].token);
}

/* xenstored's answer to one request (docs/misc/xenstore.txt). */
static void peer_handle(const struct xsd_sockmsg *hdr, const char *body)
{
	const char *path = body;
	const char *arg = body + strnlen(body, hdr->len) + 1;
	size_t arg_len = hdr->len - (size_t)(arg - body);
	struct node *n;
	char reply[XENSTORE_PAYLOAD_MAX];
	size_t len = 0;

	if (peer.hook && peer.hook(hdr, body))
		return;
	switch (hdr->type) {
	case XS_READ:
		n = peer_find(path);
		if (!n)
			peer_error(hdr, "ENOENT");
		else
			peer_send(XS_READ, hdr->req_id, hdr->tx_id, n->value, (uint32_t)n->len);
		break;
	case XS_WRITE:
		peer_set(path, arg, arg_len);
		peer_reply_str(hdr, XS_WRITE, "OK");
		peer_fire_watches(path);
		break;
	case XS_MKDIR:
		if (!peer_find(path))
			peer_set(path, "", 0);
		peer_reply_str(hdr, XS_MKDIR, "OK");
		break;
	case XS_RM:
		if (!peer_find(path)) {
			peer_error(hdr, "ENOENT");
			break;
		}
		for (int i = 0; i < NODE_COUNT; i++)
			if (peer.nodes[i].used && peer_under(peer.nodes[i].path, path))
				peer.nodes[i].used = false;
		peer_reply_str(hdr, XS_RM, "OK");
		peer_fire_watches(path);
		break;
	case XS_DIRECTORY:
		if (!peer_find(path)) {
			peer_error(hdr, "ENOENT");
			break;
		}
		for (int i = 0; i < NODE_COUNT; i++) {
			const char *p = peer.nodes[i].path;
			size_t lp = strlen(path);

			if (peer.nodes[i].used && strncmp(p, path, lp) == 0 && p[lp] == '/' &&
			    !strchr(p + lp + 1, '/')) {
				memcpy(reply + len, p + lp + 1, strlen(p + lp + 1) + 1);
				len += strlen(p + lp + 1) + 1;
			}
		}
		peer_send(XS_DIRECTORY, hdr->req_id, hdr->tx_id, reply, (uint32_t)len);
		break;
	case XS_GET_DOMAIN_PATH:
		snprintf(reply, sizeof(reply), "/local/domain/%.32s", body);
		peer_reply_str(hdr, XS_GET_DOMAIN_PATH, reply);
		break;
	case XS_WATCH:
		for (int i = 0; i < PEER_WATCH_COUNT; i++) {
			if (!peer.watches[i].used) {
				peer.watches[i].used = true;
				snprintf(peer.watches[i].path, sizeof(peer.watches[i].path),
				         "%.127s", path);
				snprintf(peer.watches[i].token, sizeof(peer.watches[i].token),
				         "%.15s", arg);
				break;
			}
		}
		peer_reply_str(hdr, XS_WATCH, "OK");
		peer_event(path, arg); /* a new watch fires once, after the acknowledgement */
		break;
	case XS_UNWATCH:
		for (int i = 0; i < PEER_WATCH_COUNT; i++)
			if (peer.watches[i].used && strcmp(peer.watches[i].path, path) == 0 &&
			    strcmp(peer.watches[i].token, arg) == 0)
				peer.watches[i].used = false;
		peer_reply_str(hdr, XS_UNWATCH, "OK");
		break;
	case XS_TRANSACTION_START:
		snprintf(reply, sizeof(reply), "%u", peer.next_txn++);
		peer_reply_str(hdr, XS_TRANSACTION_START, reply);
		break;
	case XS_TRANSACTION_END:
		if (strcmp(body, "T") == 0 && peer.eagain_left) {
			peer.eagain_left--;
			peer_error(hdr, "EAGAIN");
		} else {
			peer_reply_str(hdr, XS_TRANSACTION_END, "OK");
		}
		break;
	default:
		peer_error(hdr, "EINVAL");
	}
}

/* Consumes everything in the request ring, handling each complete request. */
static void peer_take_requests(void)
{
	XENSTORE_RING_IDX cons = intf.req_cons;
	XENSTORE_RING_IDX prod = __atomic_load_n(&intf.req_prod, __ATOMIC_ACQUIRE);

	if ((XENSTORE_RING_IDX)(prod - cons) > XENSTORE_RING_SIZE)
		return; /* corrupt on purpose: leave it to the firmware to notice */
	while (cons != prod) {
		struct xsd_sockmsg hdr;

		peer.in[peer.in_len++] = intf.req[MASK_XENSTORE_IDX(cons)];
		cons++;
		if (peer.in_len < sizeof(hdr))
			continue;
		memcpy(&hdr, peer.in, sizeof(hdr));
		if (hdr.len > XENSTORE_PAYLOAD_MAX) {
			fprintf(stderr, "test peer: request of %u bytes\n", hdr.len);
			abort();
		}
		if (peer.in_len < sizeof(hdr) + hdr.len)
			continue;
		if (peer.req_count < LOG_COUNT) {
			struct logged_request *r = &peer.log[peer.req_count];

			r->hdr = hdr;
			memcpy(r->body, peer.in + sizeof(hdr), hdr.len);
			r->body[hdr.len] = '\0';
		}
		peer.req_count++;
		peer.in_len = 0;
		{
			char body[XENSTORE_PAYLOAD_MAX + 1];

			memcpy(body, peer.in + sizeof(hdr), hdr.len);
			body[hdr.len] = '\0';
			peer_handle(&hdr, body);
		}
	}
	__atomic_store_n(&intf.req_cons, cons, __ATOMIC_RELEASE);
}

/* Writes one piece of pending output into the response ring; returns its size. */
static size_t peer_push(void)
{
	XENSTORE_RING_IDX prod = intf.rsp_prod;
	size_t room = XENSTORE_RING_SIZE - (XENSTORE_RING_IDX)(prod - intf.rsp_cons);
	size_t n = peer.out_len - peer.out_pos;

	if (peer.silent || fake_time_ns < peer.hold_until_ns || room > XENSTORE_RING_SIZE)
		return 0;
	if (n > room)
		n = room;
	if (peer.chunk_count) {
		size_t chunk = peer.chunks[peer.chunk_next % peer.chunk_count];

		if (n > chunk)
			n = chunk;
		peer.chunk_next++;
	}
	for (size_t i = 0; i < n; i++)
		intf.rsp[MASK_XENSTORE_IDX(prod + i)] = peer.out[peer.out_pos + i];
	__atomic_store_n(&intf.rsp_prod, prod + (XENSTORE_RING_IDX)n, __ATOMIC_RELEASE);
	peer.out_pos += n;
	if (peer.out_pos == peer.out_len)
		peer.out_pos = peer.out_len = 0;
	if (n) {
		peer.pushes++;
		peer.event_raised = true;
	}
	return n;
}

/* One scheduling slot of xenstored: read requests, send one piece. */
static void peer_step(void)
{
	peer_take_requests();
	peer_push();
}

/* Sends all pending output that fits, ignoring the piece sizes. */
static void peer_flush(void)
{
	size_t chunks = peer.chunk_count;

	peer.chunk_count = 0;
	while (peer_push())
		;
	peer.chunk_count = chunks;
}

/* ---- link seams: what xs.c calls outside itself ---------------------------- */

static struct {
	unsigned int sends, yields, waits, binds;
	uint32_t send_port;
	int bind_rc;
	uint32_t bound_port;
	evtchn_handler_fn handler;
	void *handler_arg;
} seam;

int evtchn_send(uint32_t port)
{
	seam.sends++;
	seam.send_port = port;
	peer_step();
	return 0;
}

int evtchn_bind(uint32_t port, evtchn_handler_fn fn, void *arg)
{
	seam.binds++;
	if (seam.bind_rc)
		return seam.bind_rc;
	seam.bound_port = port;
	seam.handler = fn;
	seam.handler_arg = arg;
	return 0;
}

void xen_yield(void)
{
	seam.yields++;
	fake_time_ns += STEP_NS;
	peer_step();
}

/* As boot/loop.c's loop_wait_port: sleep until an event or the deadline, run the port's
 * handler, -ETIMEDOUT once past. */
static int wait_port(uint32_t port, uint64_t deadline_ns)
{
	seam.waits++;
	if (deadline_ns && fake_time_ns >= deadline_ns)
		return -ETIMEDOUT;
	fake_time_ns += STEP_NS;
	if (deadline_ns && fake_time_ns > deadline_ns)
		fake_time_ns = deadline_ns;
	peer_step();
	if (peer.event_raised && seam.handler) {
		peer.event_raised = false;
		seam.handler(seam.bound_port, seam.handler_arg);
	}
	return deadline_ns && fake_time_ns >= deadline_ns ? -ETIMEDOUT : 0;
}

/* ---- fixtures ---------------------------------------------------------------- */

static void setup(bool evtchn_mode)
{
	memset(&intf, 0, sizeof(intf));
	memset(&peer, 0, sizeof(peer));
	memset(&seam, 0, sizeof(seam));
	peer.next_txn = 7;
	fake_reset();
	log_capture_reset();
	EXPECT_EQ(xs_init(&intf, XS_PORT), 0);
	if (evtchn_mode) {
		EXPECT_EQ(xs_use_evtchn(wait_port), 0);
		EXPECT_EQ(seam.bound_port, XS_PORT);
	}
}

/* Moves the idle ring's four indexes to idx, as if many bytes had gone through. */
static void ring_at(XENSTORE_RING_IDX idx)
{
	intf.req_cons = intf.req_prod = idx;
	intf.rsp_cons = intf.rsp_prod = idx;
}

/* Replies arrive in pieces of 1, 2 and 3 bytes. */
static const unsigned int small_pieces[] = {1, 2, 3};

static void use_small_pieces(void)
{
	peer.chunks = small_pieces;
	peer.chunk_count = sizeof(small_pieces) / sizeof(small_pieces[0]);
}

/* Runs name##_body once polling and once in event-channel mode. */
#define XS_TEST(name)                                                                              \
	static void name##_body(void);                                                             \
	TEST(xs_poll, name)                                                                        \
	{                                                                                          \
		setup(false);                                                                      \
		name##_body();                                                                     \
		EXPECT_EQ(seam.waits, 0); /* polling never sleeps on the event channel */          \
	}                                                                                          \
	TEST(xs_event, name)                                                                       \
	{                                                                                          \
		setup(true);                                                                       \
		name##_body();                                                                     \
		EXPECT_EQ(seam.yields, 0); /* event mode never spins on SCHEDOP_yield */           \
	}                                                                                          \
	static void name##_body(void)

/* Watch handler that records its calls. */
static struct {
	unsigned int calls;
	char paths[32][XS_WATCH_PATH_MAX];
	void *args[32];
} fired;

static void on_watch(const char *path, void *arg)
{
	if (fired.calls < 32) {
		snprintf(fired.paths[fired.calls], XS_WATCH_PATH_MAX, "%s", path);
		fired.args[fired.calls] = arg;
	}
	fired.calls++;
}

static void reset_fired(void)
{
	memset(&fired, 0, sizeof(fired));
}

/* What the main loop does: run the handlers of what xenstored has sent so far. */
static unsigned int dispatch(void)
{
	peer_flush();
	return xs_dispatch_watches();
}

/* ---- basic requests ------------------------------------------------------- */

XS_TEST(read_round_trip)
{
	char buf[64] = "";

	peer_set("/local/domain/1/name", "vdisk", 5);
	EXPECT_EQ(xs_read(XS_TXN_NONE, "/local/domain/1/name", buf, sizeof(buf)), 5);
	EXPECT_STREQ(buf, "vdisk");

	ASSERT_EQ(peer.req_count, 1);
	EXPECT_EQ(peer.log[0].hdr.type, XS_READ);
	EXPECT_EQ(peer.log[0].hdr.tx_id, 0);
	EXPECT_EQ(peer.log[0].hdr.len, sizeof("/local/domain/1/name"));
	EXPECT_MEMEQ(peer.log[0].body, "/local/domain/1/name", sizeof("/local/domain/1/name"));
	EXPECT_GE(seam.sends, 1);
	EXPECT_EQ(seam.send_port, XS_PORT);
	/* Everything sent was consumed and the reply fully read. */
	EXPECT_EQ(intf.req_cons, intf.req_prod);
	EXPECT_EQ(intf.rsp_cons, intf.rsp_prod);
}

XS_TEST(each_request_gets_a_new_req_id)
{
	char buf[8] = "";

	peer_set("/a", "1", 1);
	EXPECT_EQ(xs_read(XS_TXN_NONE, "/a", buf, sizeof(buf)), 1);
	EXPECT_EQ(xs_read(XS_TXN_NONE, "/a", buf, sizeof(buf)), 1);
	ASSERT_EQ(peer.req_count, 2);
	EXPECT_NE(peer.log[0].hdr.req_id, peer.log[1].hdr.req_id);
}

XS_TEST(write_payload_is_path_nul_value_without_nul)
{
	struct node *n;

	EXPECT_EQ(xs_write(XS_TXN_NONE, "/a/b", "xyz"), 0);
	ASSERT_EQ(peer.req_count, 1);
	EXPECT_EQ(peer.log[0].hdr.type, XS_WRITE);
	EXPECT_EQ(peer.log[0].hdr.len, 8);
	EXPECT_MEMEQ(peer.log[0].body, "/a/b\0xyz", 8);
	n = peer_find("/a/b");
	ASSERT_TRUE(n);
	EXPECT_EQ(n->len, 3);
	EXPECT_MEMEQ(n->value, "xyz", 3);

	/* An empty value is just the path and its NUL. */
	EXPECT_EQ(xs_write(XS_TXN_NONE, "/a/c", ""), 0);
	ASSERT_EQ(peer.req_count, 2);
	EXPECT_EQ(peer.log[1].hdr.len, 5);
	EXPECT_MEMEQ(peer.log[1].body, "/a/c", 5);
}

XS_TEST(mkdir_and_rm)
{
	EXPECT_EQ(xs_mkdir(XS_TXN_NONE, "/m"), 0);
	ASSERT_EQ(peer.req_count, 1);
	EXPECT_EQ(peer.log[0].hdr.type, XS_MKDIR);
	EXPECT_EQ(peer.log[0].hdr.len, 3);
	EXPECT_MEMEQ(peer.log[0].body, "/m", 3);
	EXPECT_TRUE(peer_find("/m"));

	EXPECT_EQ(xs_rm(XS_TXN_NONE, "/m"), 0);
	ASSERT_EQ(peer.req_count, 2);
	EXPECT_EQ(peer.log[1].hdr.type, XS_RM);
	EXPECT_MEMEQ(peer.log[1].body, "/m", 3);
	EXPECT_FALSE(peer_find("/m"));
	EXPECT_EQ(xs_rm(XS_TXN_NONE, "/m"), -ENOENT);
}

XS_TEST(directory_lists_children)
{
	char buf[64] = "";

	peer_set("/d", "", 0);
	peer_set("/d/a", "1", 1);
	peer_set("/d/bb", "2", 1);
	peer_set("/d/bb/deeper", "3", 1);
	peer_set("/d/ccc", "4", 1);
	EXPECT_EQ(xs_directory(XS_TXN_NONE, "/d", buf, sizeof(buf)), 3);
	EXPECT_MEMEQ(buf, "a\0bb\0ccc", 9);
	ASSERT_EQ(peer.req_count, 1);
	EXPECT_EQ(peer.log[0].hdr.type, XS_DIRECTORY);
	EXPECT_MEMEQ(peer.log[0].body, "/d", 3);

	EXPECT_EQ(xs_directory(XS_TXN_NONE, "/d/a", buf, sizeof(buf)), 0);
	EXPECT_EQ(xs_directory(XS_TXN_NONE, "/nope", buf, sizeof(buf)), -ENOENT);
	/* "a\0bb\0ccc\0" is 9 bytes and needs one more for the terminating NUL. */
	EXPECT_EQ(xs_directory(XS_TXN_NONE, "/d", buf, 9), -E2BIG);
}

XS_TEST(get_domain_path)
{
	char buf[64] = "";

	EXPECT_EQ(xs_get_domain_path(7, buf, sizeof(buf)), 15);
	EXPECT_STREQ(buf, "/local/domain/7");
	ASSERT_EQ(peer.req_count, 1);
	EXPECT_EQ(peer.log[0].hdr.type, XS_GET_DOMAIN_PATH);
	EXPECT_EQ(peer.log[0].hdr.tx_id, 0);
	EXPECT_EQ(peer.log[0].hdr.len, 2);
	EXPECT_MEMEQ(peer.log[0].body, "7", 2);
	EXPECT_EQ(xs_get_domain_path(32752, buf, 16), -E2BIG); /* "/local/domain/32752" */
}

/* ---- errors --------------------------------------------------------------- */

static bool reply_with_errors(const struct xsd_sockmsg *hdr, const char *body)
{
	if (hdr->type != XS_READ || strncmp(body, "/err/", 5) != 0)
		return false;
	peer_error(hdr, body + 5);
	return true;
}

XS_TEST(error_replies_map_to_errno)
{
	char buf[8] = "";

	peer.hook = reply_with_errors;
	EXPECT_EQ(xs_read(XS_TXN_NONE, "/missing", buf, sizeof(buf)), -ENOENT);
	EXPECT_EQ(xs_read(XS_TXN_NONE, "/err/EACCES", buf, sizeof(buf)), -EACCES);
	EXPECT_EQ(xs_read(XS_TXN_NONE, "/err/EAGAIN", buf, sizeof(buf)), -EAGAIN);
	EXPECT_EQ(xs_read(XS_TXN_NONE, "/err/EWHATEVER", buf, sizeof(buf)), -EIO);
	EXPECT_CONTAINS(log_text, "unknown error reply 'EWHATEVER'");
	/* The stream is intact afterwards. */
	peer_set("/ok", "yes", 3);
	EXPECT_EQ(xs_read(XS_TXN_NONE, "/ok", buf, sizeof(buf)), 3);
}

static bool reply_with_wrong_type(const struct xsd_sockmsg *hdr, const char *body)
{
	if (hdr->type != XS_READ || strcmp(body, "/odd") != 0)
		return false;
	peer_reply_str(hdr, XS_WRITE, "OK");
	return true;
}

XS_TEST(reply_of_another_type_is_eio)
{
	char buf[8] = "";

	peer.hook = reply_with_wrong_type;
	EXPECT_EQ(xs_read(XS_TXN_NONE, "/odd", buf, sizeof(buf)), -EIO);
	EXPECT_CONTAINS(log_text, "reply of type 11 to a request of type 2");
}

XS_TEST(value_longer_than_buffer_is_e2big)
{
	char buf[8] = "";

	peer_set("/v", "hello", 5);
	EXPECT_EQ(xs_read(XS_TXN_NONE, "/v", buf, 5), -E2BIG);
	EXPECT_EQ(xs_read(XS_TXN_NONE, "/v", buf, 6), 5);
	EXPECT_STREQ(buf, "hello");
}

XS_TEST(payload_too_long_is_not_sent)
{
	static char value[XENSTORE_PAYLOAD_MAX];

	memset(value, 'v', sizeof(value) - 1);
	value[sizeof(value) - 1] = '\0';
	/* "/p\0" + 4095 bytes is 4098 > XENSTORE_PAYLOAD_MAX. */
	EXPECT_EQ(xs_write(XS_TXN_NONE, "/p", value), -E2BIG);
	EXPECT_EQ(intf.req_prod, 0);
	EXPECT_EQ(peer.req_count, 0);
	EXPECT_TRUE(xs_available());
}

XS_TEST(large_write_goes_through_the_ring_in_several_parts)
{
	static char value[4000];
	struct node *n;

	for (size_t i = 0; i < sizeof(value) - 1; i++)
		value[i] = (char)('a' + i % 26);
	value[sizeof(value) - 1] = '\0';
	ring_at(UINT32_MAX - 100);
	EXPECT_EQ(xs_write(XS_TXN_NONE, "/big", value), 0);
	n = peer_find("/big");
	ASSERT_TRUE(n);
	EXPECT_EQ(n->len, sizeof(value) - 1);
	EXPECT_MEMEQ(n->value, value, sizeof(value) - 1);
	EXPECT_EQ(intf.req_prod, (XENSTORE_RING_IDX)(UINT32_MAX - 100 + 16 + 5 + 3999));
}

/* ---- how replies arrive ------------------------------------------------------ */

XS_TEST(reply_in_small_pieces_across_the_wrap)
{
	char value[300], buf[400];

	for (size_t i = 0; i < sizeof(value); i++)
		value[i] = (char)('A' + i % 50);
	peer_set("/piecewise", value, sizeof(value));
	ring_at(UINT32_MAX - 40); /* offset 983: the reply crosses the end of the ring and 2^32 */
	use_small_pieces();
	EXPECT_EQ(xs_read(XS_TXN_NONE, "/piecewise", buf, sizeof(buf)), 300);
	EXPECT_MEMEQ(buf, value, 300);
	EXPECT_EQ(buf[300], '\0');
	EXPECT_GE(peer.pushes, 150);    /* it really came 1-3 bytes at a time */
	EXPECT_LT(intf.rsp_prod, 1024); /* and the indexes wrapped */

	/* A second request continues cleanly from there. */
	peer_set("/short", "ok", 2);
	EXPECT_EQ(xs_read(XS_TXN_NONE, "/short", buf, sizeof(buf)), 2);
	EXPECT_STREQ(buf, "ok");
}

static bool oversized_reply(const struct xsd_sockmsg *hdr, const char *body)
{
	static char junk[5000];

	if (hdr->type != XS_READ || strcmp(body, "/huge") != 0)
		return false;
	memset(junk, 'j', sizeof(junk));
	peer_send(XS_READ, hdr->req_id, hdr->tx_id, junk, sizeof(junk));
	return true;
}

XS_TEST(oversized_reply_is_discarded_and_stream_resynchronises)
{
	char buf[64] = "";

	peer.hook = oversized_reply;
	EXPECT_EQ(xs_read(XS_TXN_NONE, "/huge", buf, sizeof(buf)), -E2BIG);
	EXPECT_CONTAINS(log_text, "5000-byte message");
	EXPECT_EQ(intf.rsp_cons, intf.rsp_prod);

	peer_set("/after", "fine", 4);
	EXPECT_EQ(xs_read(XS_TXN_NONE, "/after", buf, sizeof(buf)), 4);
	EXPECT_STREQ(buf, "fine");
	EXPECT_TRUE(xs_available());
}

XS_TEST(oversized_reply_in_small_pieces)
{
	char buf[64] = "";

	peer.hook = oversized_reply;
	use_small_pieces();
	EXPECT_EQ(xs_read(XS_TXN_NONE, "/huge", buf, sizeof(buf)), -E2BIG);
	peer_set("/after", "fine", 4);
	EXPECT_EQ(xs_read(XS_TXN_NONE, "/after", buf, sizeof(buf)), 4);
	EXPECT_STREQ(buf, "fine");
}

static bool stale_reply_first(const struct xsd_sockmsg *hdr, const char *body)
{
	if (hdr->type != XS_READ || strcmp(body, "/x") != 0)
		return false;
	peer_send(XS_READ, hdr->req_id + 1000, 0, "wrong", 5);
	peer_send(XS_READ, hdr->req_id, 0, "right", 5);
	return true;
}

XS_TEST(reply_with_wrong_req_id_is_dropped)
{
	char buf[16] = "";

	peer.hook = stale_reply_first;
	EXPECT_EQ(xs_read(XS_TXN_NONE, "/x", buf, sizeof(buf)), 5);
	EXPECT_STREQ(buf, "right");
	EXPECT_CONTAINS(log_text, "unexpected reply");
}

XS_TEST(silent_peer_times_out_and_late_reply_is_dropped)
{
	char buf[16] = "";
	uint64_t start = fake_time_ns;

	peer_set("/x", "late", 4);
	peer.silent = true;
	EXPECT_EQ(xs_read(XS_TXN_NONE, "/x", buf, sizeof(buf)), -ETIMEDOUT);
	EXPECT_GE(fake_time_ns - start, XS_TIMEOUT_NS);
	EXPECT_LE(fake_time_ns - start, XS_TIMEOUT_NS + 2 * STEP_NS);
	EXPECT_CONTAINS(log_text, "no reply to request type 2");
	EXPECT_TRUE(xs_available());

	/* The late reply to the first request must not be taken for the second's. */
	peer.silent = false;
	peer_set("/x", "fresh", 5);
	EXPECT_EQ(xs_read(XS_TXN_NONE, "/x", buf, sizeof(buf)), 5);
	EXPECT_STREQ(buf, "fresh");
}

XS_TEST(reply_arriving_at_the_deadline_is_taken)
{
	char buf[16] = "";

	reset_fired();
	EXPECT_EQ(xs_watch("/w", on_watch, NULL), 0);
	EXPECT_EQ(dispatch(), 1);

	/* The reply comes in the very wait that reaches the deadline. */
	peer_set("/slow", "made it", 7);
	peer.hold_until_ns = fake_time_ns + XS_TIMEOUT_NS;
	EXPECT_EQ(xs_read(XS_TXN_NONE, "/slow", buf, sizeof(buf)), 7);
	EXPECT_STREQ(buf, "made it");

	/* And the client still listens between requests: a watch event gets through. */
	peer_event("/w/x", "0");
	EXPECT_EQ(dispatch(), 1);
	EXPECT_STREQ(fired.paths[1], "/w/x");
}

/* ---- corrupt rings -------------------------------------------------------- */

static bool corrupt_response_ring(const struct xsd_sockmsg *hdr, const char *body)
{
	intf.rsp_prod = intf.rsp_cons + 2000;
	return true;
}

XS_TEST(corrupt_response_indexes_are_eio_and_disable_xenstore)
{
	char buf[16] = "";
	XENSTORE_RING_IDX req_prod;

	peer.hook = corrupt_response_ring;
	EXPECT_EQ(xs_read(XS_TXN_NONE, "/x", buf, sizeof(buf)), -EIO);
	EXPECT_FALSE(xs_available());
	EXPECT_CONTAINS(log_text, "response ring indexes are corrupt");
	req_prod = intf.req_prod;
	EXPECT_EQ(xs_read(XS_TXN_NONE, "/x", buf, sizeof(buf)), -ENODEV);
	EXPECT_EQ(intf.req_prod, req_prod);
	EXPECT_EQ(xs_dispatch_watches(), 0);
}

XS_TEST(corrupt_request_indexes_are_eio_and_disable_xenstore)
{
	intf.req_cons = intf.req_prod + 1; /* consumer ahead of producer */
	EXPECT_EQ(xs_write(XS_TXN_NONE, "/a", "b"), -EIO);
	EXPECT_FALSE(xs_available());
	EXPECT_CONTAINS(log_text, "request ring indexes are corrupt");
	EXPECT_EQ(intf.req_prod, 0);
	EXPECT_EQ(xs_write(XS_TXN_NONE, "/a", "b"), -ENODEV);
}

TEST(xs, init_rejects_corrupt_ring)
{
	setup(false);
	intf.rsp_prod = 5000;
	EXPECT_EQ(xs_init(&intf, XS_PORT), -EIO);
	EXPECT_FALSE(xs_available());
}

TEST(xs, init_waits_for_a_connected_ring)
{
	setup(false);
	intf.server_features = XENSTORE_SERVER_FEATURE_RECONNECTION;
	intf.connection = XENSTORE_RECONNECT;
	EXPECT_EQ(xs_init(&intf, XS_PORT), -ENOTCONN);
	EXPECT_FALSE(xs_available());
	intf.connection = XENSTORE_CONNECTED;
	EXPECT_EQ(xs_init(&intf, XS_PORT), 0);
	EXPECT_TRUE(xs_available());
}

TEST(xs, evtchn_mode_needs_a_wait)
{
	setup(false);
	EXPECT_EQ(xs_use_evtchn(NULL), -EINVAL);
}

TEST(xs, evtchn_bind_failure_keeps_polling)
{
	char buf[8] = "";

	setup(false);
	seam.bind_rc = -EINVAL;
	EXPECT_EQ(xs_use_evtchn(wait_port), -EINVAL);
	peer_set("/a", "1", 1);
	use_small_pieces();
	EXPECT_EQ(xs_read(XS_TXN_NONE, "/a", buf, sizeof(buf)), 1);
	EXPECT_GT(seam.yields, 0);
	EXPECT_EQ(seam.waits, 0);
}

TEST(xs, event_mode_sleeps_on_the_event_channel)
{
	char buf[64] = "";

	setup(true);
	peer_set("/a", "0123456789", 10);
	use_small_pieces();
	EXPECT_EQ(xs_read(XS_TXN_NONE, "/a", buf, sizeof(buf)), 10);
	EXPECT_GT(seam.waits, 0);
	EXPECT_EQ(seam.yields, 0);
}

/* ---- watches -------------------------------------------------------------- */

XS_TEST(watch_registers_with_token_and_fires_once)
{
	int arg;

	reset_fired();
	EXPECT_EQ(xs_watch("/w", on_watch, &arg), 0);
	ASSERT_EQ(peer.req_count, 1);
	EXPECT_EQ(peer.log[0].hdr.type, XS_WATCH);
	EXPECT_EQ(peer.log[0].hdr.tx_id, 0);
	EXPECT_EQ(peer.log[0].hdr.len, 5);
	EXPECT_MEMEQ(peer.log[0].body,
	             "/w\0"
	             "0",
	             5);

	EXPECT_EQ(xs_watch("/w2", on_watch, NULL), 1);
	ASSERT_EQ(peer.req_count, 2);
	EXPECT_EQ(peer.log[1].hdr.len, 6);
	EXPECT_MEMEQ(peer.log[1].body,
	             "/w2\0"
	             "1",
	             6);

	/* The initial events wait in the queue until the main loop dispatches them. */
	EXPECT_EQ(fired.calls, 0);
	EXPECT_TRUE(xs_watches_pending());
	EXPECT_EQ(dispatch(), 2);
	EXPECT_FALSE(xs_watches_pending());
	ASSERT_EQ(fired.calls, 2);
	EXPECT_STREQ(fired.paths[0], "/w");
	EXPECT_TRUE(fired.args[0] == &arg);
	EXPECT_STREQ(fired.paths[1], "/w2");
	EXPECT_EQ(dispatch(), 0);
}

static bool events_before_reply(const struct xsd_sockmsg *hdr, const char *body)
{
	if (hdr->type != XS_READ || strcmp(body, "/r") != 0)
		return false;
	peer_event("/w/a", "0");
	peer_event("/other", "99"); /* not a token of ours */
	peer_event("/w/b", "0");
	peer_event("/stray", "abc"); /* not a number */
	peer_event("/w/c", "0");
	peer_send(XS_READ, hdr->req_id, hdr->tx_id, "val", 3);
	return true;
}

XS_TEST(events_before_a_reply_are_queued_for_dispatch)
{
	char buf[8] = "";
	int arg;

	reset_fired();
	EXPECT_EQ(xs_watch("/w", on_watch, &arg), 0);
	EXPECT_EQ(dispatch(), 1);
	reset_fired();

	peer.hook = events_before_reply;
	use_small_pieces();
	EXPECT_EQ(xs_read(XS_TXN_NONE, "/r", buf, sizeof(buf)), 3);
	EXPECT_STREQ(buf, "val");
	EXPECT_EQ(fired.calls, 0); /* never from inside a request */

	EXPECT_EQ(dispatch(), 3);
	ASSERT_EQ(fired.calls, 3);
	EXPECT_STREQ(fired.paths[0], "/w/a");
	EXPECT_STREQ(fired.paths[1], "/w/b");
	EXPECT_STREQ(fired.paths[2], "/w/c");
	EXPECT_TRUE(fired.args[2] == &arg);
}

XS_TEST(write_under_a_watch_fires_it)
{
	reset_fired();
	EXPECT_EQ(xs_watch("/w", on_watch, NULL), 0);
	EXPECT_EQ(xs_write(XS_TXN_NONE, "/w/node", "1"), 0);
	EXPECT_EQ(xs_write(XS_TXN_NONE, "/elsewhere", "1"), 0);
	peer_flush();
	EXPECT_EQ(dispatch(), 2);
	EXPECT_STREQ(fired.paths[0], "/w");
	EXPECT_STREQ(fired.paths[1], "/w/node");
}

XS_TEST(event_queue_overflow_delivers_the_watched_path)
{
	char path[32];
	static char long_path[XS_WATCH_PATH_MAX + 10];

	reset_fired();
	EXPECT_EQ(xs_watch("/w", on_watch, NULL), 0);
	EXPECT_EQ(dispatch(), 1);
	reset_fired();

	for (int i = 0; i < 20; i++) {
		snprintf(path, sizeof(path), "/w/%d", i);
		peer_event(path, "0");
	}
	peer_flush();
	/* 16 events fit in the queue; the other 4 become one for the watched path. */
	EXPECT_EQ(dispatch(), 17);
	ASSERT_EQ(fired.calls, 17);
	EXPECT_STREQ(fired.paths[0], "/w/0");
	EXPECT_STREQ(fired.paths[15], "/w/15");
	EXPECT_STREQ(fired.paths[16], "/w");
	EXPECT_EQ(dispatch(), 0);

	/* A path too long to queue also arrives as the watched path. */
	reset_fired();
	memset(long_path, 'x', sizeof(long_path) - 1);
	memcpy(long_path, "/w/", 3);
	peer_event(long_path, "0");
	peer_flush();
	EXPECT_EQ(dispatch(), 1);
	EXPECT_STREQ(fired.paths[0], "/w");
}

/* The main loop asks every pass; each way an event can wait must answer yes until dispatched. */
XS_TEST(pending_covers_ring_queue_and_overflow)
{
	static char long_path[XS_WATCH_PATH_MAX + 10];

	reset_fired();
	EXPECT_EQ(xs_watch("/w", on_watch, NULL), 0);
	EXPECT_EQ(dispatch(), 1);
	EXPECT_FALSE(xs_watches_pending());

	/* Still in the ring: nothing has read it yet. */
	peer_event("/w/a", "0");
	peer_flush();
	EXPECT_TRUE(xs_watches_pending());
	EXPECT_EQ(xs_dispatch_watches(), 1);
	EXPECT_FALSE(xs_watches_pending());

	/* Only an overflow: a request read the event, too long to queue, before its reply. */
	memset(long_path, 'x', sizeof(long_path) - 1);
	memcpy(long_path, "/w/", 3);
	peer_event(long_path, "0");
	peer_flush();
	EXPECT_EQ(xs_write(XS_TXN_NONE, "/elsewhere", "1"), 0);
	EXPECT_EQ(intf.rsp_cons, intf.rsp_prod);
	EXPECT_TRUE(xs_watches_pending());
	EXPECT_EQ(xs_dispatch_watches(), 1);
	EXPECT_FALSE(xs_watches_pending());
}

XS_TEST(unwatch_stops_delivery)
{
	reset_fired();
	EXPECT_EQ(xs_watch("/w", on_watch, NULL), 0);
	EXPECT_EQ(xs_watch("/u", on_watch, NULL), 1);
	EXPECT_EQ(dispatch(), 2);
	reset_fired();

	/* Events for both watches are in the ring; the unwatch request queues them. */
	peer_event("/w/a", "0");
	peer_event("/u/a", "1");
	peer_event("/w/b", "0");
	peer_event("/u/b", "1");
	peer_flush();
	EXPECT_EQ(xs_unwatch(0), 0);
	ASSERT_EQ(peer.req_count, 3);
	EXPECT_EQ(peer.log[2].hdr.type, XS_UNWATCH);
	EXPECT_EQ(peer.log[2].hdr.len, 5);
	EXPECT_MEMEQ(peer.log[2].body,
	             "/w\0"
	             "0",
	             5);

	/* A new watch reuses the id (and token) but must not inherit the old events. */
	EXPECT_EQ(xs_watch("/v", on_watch, NULL), 0);
	EXPECT_EQ(dispatch(), 3);
	ASSERT_EQ(fired.calls, 3);
	EXPECT_STREQ(fired.paths[0], "/u/a");
	EXPECT_STREQ(fired.paths[1], "/u/b");
	EXPECT_STREQ(fired.paths[2], "/v");

	/* An event for a token no watch holds any more is ignored. */
	EXPECT_EQ(xs_unwatch(0), 0);
	reset_fired();
	peer_event("/v/c", "0");
	EXPECT_EQ(dispatch(), 0);
	EXPECT_EQ(fired.calls, 0);
	EXPECT_EQ(xs_unwatch(0), -EINVAL);
	EXPECT_EQ(xs_unwatch(-1), -EINVAL);
	EXPECT_EQ(xs_unwatch(16), -EINVAL);
}

static bool refuse_watch(const struct xsd_sockmsg *hdr, const char *body)
{
	if (hdr->type != XS_WATCH)
		return false;
	peer_error(hdr, "EINVAL");
	return true;
}

XS_TEST(watch_limits_and_refusal)
{
	char long_path[XS_WATCH_PATH_MAX + 1];

	memset(long_path, 'p', sizeof(long_path) - 1);
	long_path[sizeof(long_path) - 1] = '\0';
	EXPECT_EQ(xs_watch(long_path, on_watch, NULL), -ENAMETOOLONG);

	peer.hook = refuse_watch;
	EXPECT_EQ(xs_watch("/w", on_watch, NULL), -EINVAL);
	peer.hook = NULL;
	EXPECT_EQ(xs_watch("/w", on_watch, NULL), 0); /* the refused slot was freed */
	for (int i = 1; i < 16; i++)
		EXPECT_EQ(xs_watch("/w", on_watch, NULL), i);
	EXPECT_EQ(xs_watch("/w", on_watch, NULL), -ENOSPC);
}

/* ---- transactions ------------------------------------------------------------ */

static int write_in_txn(xs_txn_t tx, void *arg)
{
	unsigned int *calls = arg;

	(*calls)++;
	return xs_write(tx, "/t/x", "1");
}

XS_TEST(transaction_retries_on_eagain)
{
	unsigned int calls = 0;

	peer.eagain_left = 1;
	EXPECT_EQ(xs_transaction(write_in_txn, &calls), 0);
	EXPECT_EQ(calls, 2);
	ASSERT_EQ(peer.req_count, 6);
	EXPECT_EQ(peer.log[0].hdr.type, XS_TRANSACTION_START);
	EXPECT_EQ(peer.log[0].hdr.tx_id, 0);
	EXPECT_EQ(peer.log[0].hdr.len, 1);
	EXPECT_MEMEQ(peer.log[0].body, "", 1);
	EXPECT_EQ(peer.log[1].hdr.type, XS_WRITE);
	EXPECT_EQ(peer.log[1].hdr.tx_id, 7);
	EXPECT_EQ(peer.log[2].hdr.type, XS_TRANSACTION_END);
	EXPECT_EQ(peer.log[2].hdr.tx_id, 7);
	EXPECT_EQ(peer.log[2].hdr.len, 2);
	EXPECT_MEMEQ(peer.log[2].body, "T", 2);
	EXPECT_EQ(peer.log[3].hdr.type, XS_TRANSACTION_START);
	EXPECT_EQ(peer.log[4].hdr.tx_id, 8);
	EXPECT_EQ(peer.log[5].hdr.type, XS_TRANSACTION_END);
	EXPECT_EQ(peer.log[5].hdr.tx_id, 8);
}

XS_TEST(transaction_gives_up_after_the_retry_limit)
{
	unsigned int calls = 0, ends = 0;

	peer.eagain_left = 1000;
	EXPECT_EQ(xs_transaction(write_in_txn, &calls), -EAGAIN);
	EXPECT_EQ(calls, 16);
	for (unsigned int i = 0; i < peer.req_count && i < LOG_COUNT; i++)
		ends += peer.log[i].hdr.type == XS_TRANSACTION_END;
	EXPECT_EQ(ends, 16);
	EXPECT_EQ(peer.req_count, 48);
	EXPECT_CONTAINS(log_text, "after 16 attempts");
}

static int fail_in_txn(xs_txn_t tx, void *arg)
{
	return -EINVAL;
}

XS_TEST(transaction_body_error_aborts)
{
	EXPECT_EQ(xs_transaction(fail_in_txn, NULL), -EINVAL);
	ASSERT_EQ(peer.req_count, 2);
	EXPECT_EQ(peer.log[1].hdr.type, XS_TRANSACTION_END);
	EXPECT_EQ(peer.log[1].hdr.tx_id, 7);
	EXPECT_MEMEQ(peer.log[1].body, "F", 2);
}

static bool bad_transaction_id(const struct xsd_sockmsg *hdr, const char *body)
{
	if (hdr->type != XS_TRANSACTION_START)
		return false;
	peer_reply_str(hdr, XS_TRANSACTION_START, "12abc");
	return true;
}

XS_TEST(transaction_start_rejects_a_bad_id)
{
	xs_txn_t tx = 0;

	peer.hook = bad_transaction_id;
	EXPECT_EQ(xs_transaction_start(&tx), -EIO);
	EXPECT_EQ(tx, 0);
	EXPECT_CONTAINS(log_text, "bad transaction id '12abc'");
}

/* ---- event mode only ------------------------------------------------------------ */

TEST(xs_event, idle_events_are_queued_by_the_upcall_not_run)
{
	setup(true);
	reset_fired();
	EXPECT_EQ(xs_watch("/w", on_watch, NULL), 0);
	peer_event("/w/1", "0");
	peer_flush();
	/* The upcall handler drains the ring into the queue... */
	ASSERT_TRUE(seam.handler);
	seam.handler(seam.bound_port, seam.handler_arg);
	EXPECT_EQ(intf.rsp_cons, intf.rsp_prod);
	EXPECT_EQ(fired.calls, 0);
	/* ...and only the main loop's dispatch runs the watch handlers. */
	EXPECT_EQ(xs_dispatch_watches(), 2);
	EXPECT_STREQ(fired.paths[0], "/w");
	EXPECT_STREQ(fired.paths[1], "/w/1");
}
