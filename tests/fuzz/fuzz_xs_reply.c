/*
 * hyp/xs.c + hyp/xs_ring.c: a hostile xenstored. The bytes script both sides: client calls
 * (read, directory, domain path, watch, unwatch, transactions, dispatching watch events) and,
 * at each step the client gives the peer (evtchn_send, xen_yield, the wait given to
 * xs_use_evtchn: the seams xs.c calls, defined here), one peer action: a reply message with
 * any type, length and payload (its req_id and type optionally the outstanding request's, so
 * replies match),
 * raw bytes, a piece size for writing the response ring, or a corrupt ring index. Each step
 * moves the fake clock 1 s, so a silent peer costs ten steps.
 *
 * Invariants: results are lengths that fit the caller's buffer (exactly sized on the heap,
 * so ASan sees any overrun) with the string NUL-terminated there, or negative errnos; a
 * directory's count is at most its bytes; a transaction id is not 0; watch handlers run only
 * for live watches, with a NUL-terminated path shorter than XS_WATCH_PATH_MAX.
 */
#include <errno.h>
#include <stdint.h>
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
#include "tests/fuzz/fuzz.h"

#define XS_PORT   5
#define STEP_NS   1000000000ull
#define OPS_MAX   64
#define WATCH_MAX 20

static struct xenstore_domain_interface intf;
static struct fuzz_in in;

static struct {
	/* The request stream, reassembled to learn the outstanding request. */
	uint8_t req[sizeof(struct xsd_sockmsg) + XENSTORE_PAYLOAD_MAX];
	size_t req_len;
	uint32_t last_req_id, last_type;
	/* Bytes waiting for room in the response ring, and the piece size (0: all that fits). */
	uint8_t out[3 * (sizeof(struct xsd_sockmsg) + XENSTORE_PAYLOAD_MAX)];
	size_t out_len;
	uint32_t chunk;
	evtchn_handler_fn handler;
	void *handler_arg;
	bool raised;
	bool desync; /* the script moved req_cons */
} peer;

static struct {
	bool live;
	unsigned int calls;
} watches[WATCH_MAX];

enum peer_op { PEER_NOTHING, PEER_MSG, PEER_RAW, PEER_CHUNK, PEER_CORRUPT, PEER_OP_COUNT };

static void peer_queue(const void *p, size_t len)
{
	if (len > sizeof(peer.out) - peer.out_len)
		len = sizeof(peer.out) - peer.out_len;
	memcpy(peer.out + peer.out_len, p, len);
	peer.out_len += len;
}

/* Takes what the client wrote, as xenstored does, noting each complete request's header. */
static void peer_take_requests(void)
{
	XENSTORE_RING_IDX cons = intf.req_cons, prod = intf.req_prod;

	if ((XENSTORE_RING_IDX)(prod - cons) > XENSTORE_RING_SIZE)
		return;
	for (; cons != prod; cons++) {
		struct xsd_sockmsg hdr;

		peer.req[peer.req_len++] = (uint8_t)intf.req[MASK_XENSTORE_IDX(cons)];
		if (peer.req_len < sizeof(hdr))
			continue;
		memcpy(&hdr, peer.req, sizeof(hdr));
		/* Once the peer moved req_cons itself, the stream is anyone's guess. */
		FUZZ_CHECK(peer.desync || hdr.len <= XENSTORE_PAYLOAD_MAX, "request of %u bytes",
		           hdr.len);
		if (hdr.len > XENSTORE_PAYLOAD_MAX) {
			peer.req_len = 0;
			continue;
		}
		if (peer.req_len < sizeof(hdr) + hdr.len)
			continue;
		peer.last_req_id = hdr.req_id;
		peer.last_type = hdr.type;
		peer.req_len = 0;
	}
	intf.req_cons = cons;
}

/* One step of xenstored: take requests, run one scripted action, write a piece out. */
static void peer_step(void)
{
	XENSTORE_RING_IDX prod = intf.rsp_prod;
	uint32_t room = XENSTORE_RING_SIZE - (XENSTORE_RING_IDX)(prod - intf.rsp_cons);
	size_t n;

	fake_time_ns += STEP_NS;
	peer_take_requests();
	switch (fuzz_u8(&in) % PEER_OP_COUNT) {
	case PEER_NOTHING:
		break;
	case PEER_MSG: {
		uint8_t flags = fuzz_u8(&in), type = fuzz_u8(&in);
		struct xsd_sockmsg hdr = {
		    .type = flags & 2 ? peer.last_type : type,
		    .req_id = flags & 1 ? peer.last_req_id : fuzz_u32(&in),
		    .len = fuzz_u16(&in) & 0x1fffu, /* oversized ones too */
		};
		uint32_t have = hdr.len < in.left ? hdr.len : (uint32_t)in.left;
		static const uint8_t zeroes[0x2000];

		peer_queue(&hdr, sizeof(hdr));
		peer_queue(in.p, have);
		peer_queue(zeroes, hdr.len - have);
		in.p += have;
		in.left -= have;
		break;
	}
	case PEER_RAW: {
		uint8_t len = fuzz_u8(&in);

		if (len > in.left)
			len = (uint8_t)in.left;
		peer_queue(in.p, len);
		in.p += len;
		in.left -= len;
		break;
	}
	case PEER_CHUNK:
		peer.chunk = fuzz_u8(&in);
		break;
	case PEER_CORRUPT:
		if (fuzz_u8(&in) & 1)
			intf.rsp_prod = fuzz_u32(&in);
		else {
			intf.req_cons = fuzz_u32(&in);
			peer.desync = true;
		}
		return;
	}
	if (room > XENSTORE_RING_SIZE)
		return;
	n = peer.out_len < room ? peer.out_len : room;
	if (peer.chunk && n > peer.chunk)
		n = peer.chunk;
	for (size_t i = 0; i < n; i++)
		intf.rsp[MASK_XENSTORE_IDX(prod + (XENSTORE_RING_IDX)i)] = (char)peer.out[i];
	intf.rsp_prod = prod + (XENSTORE_RING_IDX)n;
	memmove(peer.out, peer.out + n, peer.out_len - n);
	peer.out_len -= n;
	peer.raised |= n > 0;
}

/* ---- link seams: what xs.c calls outside itself ------------------------------------ */

int evtchn_send(uint32_t port)
{
	FUZZ_CHECK(port == XS_PORT, "send on port %u", port);
	peer_step();
	return 0;
}

int evtchn_bind(uint32_t port, evtchn_handler_fn fn, void *arg)
{
	peer.handler = fn;
	peer.handler_arg = arg;
	return 0;
}

void xen_yield(void)
{
	peer_step();
}

static int wait_port(uint32_t port, uint64_t deadline_ns)
{
	if (deadline_ns && fake_time_ns >= deadline_ns)
		return -ETIMEDOUT;
	peer_step();
	if (peer.raised && peer.handler) {
		peer.raised = false;
		peer.handler(XS_PORT, peer.handler_arg);
	}
	return deadline_ns && fake_time_ns >= deadline_ns ? -ETIMEDOUT : 0;
}

/* ---- the client ------------------------------------------------------------------- */

static void on_watch(const char *path, void *arg)
{
	uintptr_t id = (uintptr_t)arg;

	FUZZ_CHECK(id < WATCH_MAX && watches[id].live, "handler of watch %lu, not live",
	           (unsigned long)id);
	FUZZ_CHECK(strnlen(path, XS_WATCH_PATH_MAX) < XS_WATCH_PATH_MAX, "watch path too long");
	watches[id].calls++;
}

/* A caller's buffer of the scripted size, exactly that big on the heap. */
static char *buffer(size_t *size)
{
	*size = 1 + fuzz_u16(&in) % (XENSTORE_PAYLOAD_MAX + 64);
	return malloc(*size);
}

static void check_string(int rc, const char *buf, size_t size)
{
	if (rc < 0)
		return;
	FUZZ_CHECK((size_t)rc < size, "length %d in a buffer of %zu", rc, size);
	FUZZ_CHECK(buf[rc] == '\0', "length %d not NUL-terminated", rc);
}

enum client_op {
	OP_READ,
	OP_DIRECTORY,
	OP_DOMAIN_PATH,
	OP_WATCH,
	OP_UNWATCH,
	OP_TXN_START,
	OP_WRITE,
	OP_DISPATCH,
	OP_TXN_END,
	OP_COUNT,
};

static void client_op(void)
{
	size_t size;
	char *buf;
	int rc;

	switch (fuzz_u8(&in) % OP_COUNT) {
	case OP_READ:
		buf = buffer(&size);
		rc = xs_read(XS_TXN_NONE, "device/vdisk/0/params", buf, size);
		check_string(rc, buf, size);
		free(buf);
		break;
	case OP_DIRECTORY:
		buf = buffer(&size);
		rc = xs_directory(XS_TXN_NONE, "backend/virtio/3", buf, size);
		FUZZ_CHECK(rc < 0 || (size_t)rc < size, "%d names in %zu bytes", rc, size);
		free(buf);
		break;
	case OP_DOMAIN_PATH:
		buf = buffer(&size);
		rc = xs_get_domain_path(fuzz_u16(&in), buf, size);
		check_string(rc, buf, size);
		free(buf);
		break;
	case OP_WATCH: {
		/* Watches remember their id: handlers check the argument against it. */
		int id;

		for (id = 0; id < WATCH_MAX && watches[id].live; id++)
			;
		if (id == WATCH_MAX)
			break;
		watches[id].live = true;
		rc = xs_watch("backend/virtio", on_watch, (void *)(uintptr_t)id);
		if (rc < 0) {
			watches[id].live = false;
			break;
		}
		/* xs.c picks the lowest free id, as this loop does. */
		FUZZ_CHECK(rc == id, "watch id %d, expected %d", rc, id);
		break;
	}
	case OP_UNWATCH: {
		unsigned int id = fuzz_u8(&in) % (WATCH_MAX + 2);

		rc = xs_unwatch((int)id);
		if (id < WATCH_MAX) {
			FUZZ_CHECK(watches[id].live || rc == -EINVAL, "unwatch of free id %u: %d",
			           id, rc);
			watches[id].live = false;
		}
		break;
	}
	case OP_TXN_START: {
		xs_txn_t tx = 0;

		rc = xs_transaction_start(&tx);
		FUZZ_CHECK(rc < 0 || tx != 0, "transaction id 0");
		break;
	}
	case OP_WRITE:
		xs_write(fuzz_u8(&in), "backend/virtio/3/0/state", "4");
		break;
	case OP_DISPATCH:
		xs_dispatch_watches();
		FUZZ_CHECK(!xs_watches_pending(), "events left after a dispatch");
		break;
	case OP_TXN_END:
		xs_transaction_end(fuzz_u8(&in), fuzz_u8(&in) & 1);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool once;
	uint8_t flags;

	if (!once) {
		once = true;
		log_set_sink(fuzz_log_discard);
		log_set_level(LOG_DEBUG);
	}
	in = (struct fuzz_in){data, size};
	memset(&intf, 0, sizeof(intf));
	memset(&peer, 0, sizeof(peer));
	memset(watches, 0, sizeof(watches));
	fake_reset();
	flags = fuzz_u8(&in);
	if (flags & 2) {
		/* Indexes that have run far, to cross the 2^32 wrap. */
		XENSTORE_RING_IDX base = fuzz_u32(&in);

		intf.req_cons = intf.req_prod = intf.rsp_cons = intf.rsp_prod = base;
	}
	if (xs_init(&intf, XS_PORT))
		return 0;
	if ((flags & 1) && xs_use_evtchn(wait_port))
		abort();
	for (int n = 0; n < OPS_MAX && in.left; n++)
		client_op();
	/* Whatever the peer left queued, delivered now. */
	xs_dispatch_watches();
	return 0;
}
