/*
 * Xenstore client (io/xs_wire.h, docs/misc/xenstore.txt). Messages are a struct
 * xsd_sockmsg header and up to XENSTORE_PAYLOAD_MAX bytes; they may arrive in pieces and
 * across the ring's wrap, so receive() assembles them incrementally. Replies are matched to
 * the one outstanding request by req_id; XS_WATCH_EVENTs are queued for the main loop.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xen/xen.h>
#include <xen/io/xs_wire.h>

#include "arch/timer.h"
#include "hyp/evtchn.h"
#include "hyp/xen.h"
#include "hyp/xs.h"
#include "hyp/xs_ring.h"
#include "lib/log.h"

#define WATCH_COUNT   16
#define EVENT_QUEUE   16
#define TXN_RETRIES   16

struct watch {
	bool used;
	bool overflow; /* events were dropped: deliver one for the watched path */
	xs_watch_fn fn;
	void *arg;
	char path[XS_WATCH_PATH_MAX];
};

struct event {
	uint8_t watch;
	char path[XS_WATCH_PATH_MAX];
};

/* The message being received. */
struct rx {
	struct xsd_sockmsg hdr;
	size_t hdr_got;
	size_t body_got;
	bool oversized;
	char body[XENSTORE_PAYLOAD_MAX + 1];
};

static struct {
	struct xenstore_domain_interface *intf;
	uint32_t port;
	bool evtchn_mode;
	xs_wait_fn wait; /* how to sleep in event-channel mode (xs_use_evtchn) */
	bool broken;
	uint32_t next_req_id;

	/* The request waiting for its reply. */
	bool waiting;
	uint32_t wait_req_id;
	bool reply_ready;
	int reply_err;

	struct rx rx;
	char tx[XENSTORE_PAYLOAD_MAX];

	struct watch watches[WATCH_COUNT];
	struct event events[EVENT_QUEUE];
	unsigned int ev_head, ev_count;
	unsigned int overflow_count; /* watches with overflow set: the loop asks every pass */
} xs;

static void mark_broken(const char *why)
{
	if (!xs.broken)
		log_error("xenstore: %s (req %u/%u rsp %u/%u); giving up on xenstore", why,
			  xs.intf->req_cons, xs.intf->req_prod, xs.intf->rsp_cons,
			  xs.intf->rsp_prod);
	xs.broken = true;
}

/* Sets or clears a watch's overflow, keeping overflow_count. */
static void set_overflow(struct watch *w, bool on)
{
	if (w->overflow == on)
		return;
	w->overflow = on;
	if (on)
		xs.overflow_count++;
	else
		xs.overflow_count--;
}

static void queue_event(const char *body, size_t len)
{
	const char *path = body;
	size_t path_len = strnlen(body, len);
	const char *token;
	char *end;
	unsigned long id;

	if (path_len >= len) {
		log_warn("xenstore: watch event without a token, dropped");
		return;
	}
	token = body + path_len + 1;
	if (strnlen(token, len - path_len - 1) == len - path_len - 1) {
		log_warn("xenstore: watch event with an unterminated token, dropped");
		return;
	}
	id = strtoul(token, &end, 10);
	if (*token == '\0' || *end != '\0' || id >= WATCH_COUNT || !xs.watches[id].used)
		return; /* not ours, or an event for a watch we already removed */

	if (xs.ev_count == EVENT_QUEUE || path_len >= XS_WATCH_PATH_MAX) {
		set_overflow(&xs.watches[id], true);
		return;
	}
	struct event *ev = &xs.events[(xs.ev_head + xs.ev_count++) % EVENT_QUEUE];
	ev->watch = (uint8_t)id;
	memcpy(ev->path, path, path_len + 1);
}

static void complete_message(void)
{
	struct rx *rx = &xs.rx;
	bool for_waiter = xs.waiting && rx->hdr.req_id == xs.wait_req_id &&
			  rx->hdr.type != XS_WATCH_EVENT;

	if (rx->oversized) {
		log_error("xenstore: %u-byte message (type %u, req %u) exceeds the %u-byte limit, "
			  "discarded", rx->hdr.len, rx->hdr.type, rx->hdr.req_id,
			  XENSTORE_PAYLOAD_MAX);
		if (for_waiter) {
			xs.reply_err = -E2BIG;
			xs.reply_ready = true;
		}
		return;
	}
	rx->body[rx->hdr.len] = '\0';
	if (rx->hdr.type == XS_WATCH_EVENT) {
		queue_event(rx->body, rx->hdr.len);
		return;
	}
	if (!for_waiter) {
		log_warn("xenstore: unexpected reply (type %u, req %u), dropped", rx->hdr.type,
			 rx->hdr.req_id);
		return;
	}
	xs.reply_err = 0;
	xs.reply_ready = true;
}

/* Pulls what the ring holds; stops early when the waiter's reply is complete. */
static void receive(void)
{
	struct rx *rx = &xs.rx;

	while (!xs.broken && !xs.reply_ready) {
		int n;

		if (rx->hdr_got < sizeof(rx->hdr)) {
			n = xs_ring_read(xs.intf, (char *)&rx->hdr + rx->hdr_got,
					 sizeof(rx->hdr) - rx->hdr_got);
			if (n < 0)
				mark_broken("response ring indexes are corrupt");
			if (n <= 0)
				return;
			rx->hdr_got += (size_t)n;
			if (rx->hdr_got < sizeof(rx->hdr))
				return;
			rx->body_got = 0;
			rx->oversized = rx->hdr.len > XENSTORE_PAYLOAD_MAX;
		}
		while (rx->body_got < rx->hdr.len) {
			/* An oversized body is read into the buffer piecewise and thrown away. */
			size_t want = rx->hdr.len - rx->body_got;
			char *dst = rx->body + (rx->oversized ? 0 : rx->body_got);

			if (rx->oversized && want > XENSTORE_PAYLOAD_MAX)
				want = XENSTORE_PAYLOAD_MAX;
			n = xs_ring_read(xs.intf, dst, want);
			if (n < 0)
				mark_broken("response ring indexes are corrupt");
			if (n <= 0)
				return;
			rx->body_got += (size_t)n;
		}
		rx->hdr_got = 0;
		complete_message();
	}
}

static void notify(void)
{
	if (xs.port)
		evtchn_send(xs.port);
}

/* Waits for xenstored: on the event channel once bound, by polling before that. */
static int wait_for_peer(uint64_t deadline)
{
	if (arch_timer_now_ns() >= deadline)
		return -ETIMEDOUT;
	if (xs.evtchn_mode)
		return xs.wait(xs.port, deadline);
	xen_yield();
	return 0;
}

static int send_all(const void *data, size_t len, uint64_t deadline)
{
	const char *p = data;

	while (len) {
		int n = xs_ring_write(xs.intf, p, len);

		if (n < 0) {
			mark_broken("request ring indexes are corrupt");
			return -EIO;
		}
		p += n;
		len -= (size_t)n;
		if (len == 0)
			break;
		notify();
		if (wait_for_peer(deadline))
			return -ETIMEDOUT;
	}
	return 0;
}

static int error_from_reply(const char *name)
{
	for (size_t i = 0; i < sizeof(xsd_errors) / sizeof(xsd_errors[0]); i++)
		if (strcmp(name, xsd_errors[i].errstring) == 0)
			return -xsd_errors[i].errnum;
	log_warn("xenstore: unknown error reply '%s'", name);
	return -EIO;
}

/*
 * Sends one request whose payload is already in xs.tx and waits for its reply.
 * Returns the reply's length, with the reply NUL-terminated in xs.rx.body, or -errno.
 */
static int request(uint32_t type, xs_txn_t tx, size_t len)
{
	uint64_t deadline = arch_timer_now_ns() + XS_TIMEOUT_NS;
	struct xsd_sockmsg hdr = {
		.type = type,
		.req_id = ++xs.next_req_id,
		.tx_id = tx,
		.len = (uint32_t)len,
	};
	int rc;

	if (!xs.intf || xs.broken)
		return -ENODEV;
	if (len > XENSTORE_PAYLOAD_MAX)
		return -E2BIG;

	xs.waiting = true;
	xs.wait_req_id = hdr.req_id;
	xs.reply_ready = false;
	rc = send_all(&hdr, sizeof(hdr), deadline);
	if (rc == 0)
		rc = send_all(xs.tx, len, deadline);
	if (rc == 0)
		notify();
	while (rc == 0) {
		receive();
		if (xs.reply_ready || xs.broken)
			break;
		rc = wait_for_peer(deadline);
	}
	/*
	 * loop_wait dispatches before it reports the deadline: a reply that completed in that
	 * last wait is the answer, and leaving reply_ready set would stall receive() for good.
	 */
	if (xs.reply_ready)
		rc = 0;
	xs.waiting = false;
	if (rc == -ETIMEDOUT)
		log_error("xenstore: no reply to request type %u (req %u) in %llu s", type,
			  hdr.req_id, (unsigned long long)(XS_TIMEOUT_NS / 1000000000ull));
	if (rc)
		return rc;
	if (xs.broken)
		return -EIO;

	xs.reply_ready = false;
	if (xs.reply_err)
		return xs.reply_err;
	if (xs.rx.hdr.type == XS_ERROR)
		return error_from_reply(xs.rx.body);
	if (xs.rx.hdr.type != type) {
		log_error("xenstore: reply of type %u to a request of type %u", xs.rx.hdr.type,
			  type);
		return -EIO;
	}
	return (int)xs.rx.hdr.len;
}

/*
 * Puts "a\0" or "a\0b" into xs.tx: XS_WRITE wants its value without a NUL, XS_WATCH and
 * XS_UNWATCH want "path\0token\0" (b_nul).
 */
static int payload(const char *a, const char *b, bool b_nul, size_t *len)
{
	size_t la = strlen(a) + 1;
	size_t lb = b ? strlen(b) + b_nul : 0;

	if (la + lb > sizeof(xs.tx))
		return -E2BIG;
	memcpy(xs.tx, a, la);
	if (b)
		memcpy(xs.tx + la, b, lb);
	*len = la + lb;
	return 0;
}

/* A request with a string payload whose reply is only an acknowledgement. */
static int simple(uint32_t type, xs_txn_t tx, const char *a, const char *b, bool b_nul)
{
	size_t len;
	int rc = payload(a, b, b_nul, &len);

	if (rc == 0)
		rc = request(type, tx, len);
	return rc < 0 ? rc : 0;
}

static int copy_reply(int len, char *buf, size_t size)
{
	if (len < 0)
		return len;
	if ((size_t)len >= size)
		return -E2BIG;
	memcpy(buf, xs.rx.body, (size_t)len + 1);
	return len;
}

int xs_init(struct xenstore_domain_interface *intf, uint32_t port)
{
	memset(&xs, 0, sizeof(xs));
	xs.intf = intf;
	xs.port = port;
	if ((intf->server_features & XENSTORE_SERVER_FEATURE_RECONNECTION) &&
	    intf->connection != XENSTORE_CONNECTED) {
		log_error("xenstore: ring not connected (connection %u)", intf->connection);
		xs.intf = NULL;
		return -ENOTCONN;
	}
	if (xs_ring_pending(intf) < 0) {
		mark_broken("ring indexes are corrupt at start");
		return -EIO;
	}
	return 0;
}

bool xs_available(void)
{
	return xs.intf && !xs.broken;
}

static void xs_event(uint32_t port, void *arg)
{
	/* Queue watch events now; a request in progress picks up its own reply. */
	receive();
}

int xs_use_evtchn(xs_wait_fn wait)
{
	int rc;

	if (!wait)
		return -EINVAL;
	rc = evtchn_bind(xs.port, xs_event, NULL);
	if (rc == 0) {
		xs.wait = wait;
		xs.evtchn_mode = true;
	}
	return rc;
}

int xs_read(xs_txn_t tx, const char *path, char *buf, size_t size)
{
	size_t len;
	int rc = payload(path, NULL, false, &len);

	return rc ? rc : copy_reply(request(XS_READ, tx, len), buf, size);
}

int xs_write(xs_txn_t tx, const char *path, const char *value)
{
	return simple(XS_WRITE, tx, path, value, false);
}

int xs_mkdir(xs_txn_t tx, const char *path)
{
	return simple(XS_MKDIR, tx, path, NULL, false);
}

int xs_rm(xs_txn_t tx, const char *path)
{
	return simple(XS_RM, tx, path, NULL, false);
}

int xs_directory(xs_txn_t tx, const char *path, char *buf, size_t size)
{
	size_t len;
	int rc = payload(path, NULL, false, &len);
	int count = 0;

	if (rc == 0)
		rc = copy_reply(request(XS_DIRECTORY, tx, len), buf, size);
	if (rc < 0)
		return rc;
	for (int i = 0; i < rc; i++)
		count += buf[i] == '\0';
	return count;
}

int xs_get_domain_path(unsigned int domid, char *buf, size_t size)
{
	char id[12];
	size_t len;
	int rc;

	snprintf(id, sizeof(id), "%u", domid);
	rc = payload(id, NULL, false, &len);
	if (rc == 0)
		rc = copy_reply(request(XS_GET_DOMAIN_PATH, XS_TXN_NONE, len), buf, size);
	/* The reply carries its NUL inside the payload: report the string's length. */
	return rc < 0 ? rc : (int)strlen(buf);
}

static void watch_token(int id, char *token, size_t size)
{
	snprintf(token, size, "%d", id);
}

int xs_watch(const char *path, xs_watch_fn fn, void *arg)
{
	char token[12];
	int id;
	int rc;

	if (strlen(path) >= XS_WATCH_PATH_MAX)
		return -ENAMETOOLONG;
	for (id = 0; id < WATCH_COUNT && xs.watches[id].used; id++)
		;
	if (id == WATCH_COUNT)
		return -ENOSPC;
	watch_token(id, token, sizeof(token));
	xs.watches[id] = (struct watch){.used = true, .fn = fn, .arg = arg};
	strcpy(xs.watches[id].path, path);
	rc = simple(XS_WATCH, XS_TXN_NONE, path, token, true);
	if (rc) {
		xs.watches[id].used = false;
		return rc;
	}
	return id;
}

int xs_unwatch(int id)
{
	char token[12];
	unsigned int kept = 0;
	int rc;

	if (id < 0 || id >= WATCH_COUNT || !xs.watches[id].used)
		return -EINVAL;
	watch_token(id, token, sizeof(token));
	rc = simple(XS_UNWATCH, XS_TXN_NONE, xs.watches[id].path, token, true);
	/* Forget it either way: late events for the token are now ignored. */
	xs.watches[id].used = false;
	set_overflow(&xs.watches[id], false);
	/* Drop its queued events, or a new watch that reuses the id would receive them. */
	for (unsigned int i = 0; i < xs.ev_count; i++) {
		const struct event *ev = &xs.events[(xs.ev_head + i) % EVENT_QUEUE];

		if (ev->watch == id)
			continue;
		if (kept != i)
			xs.events[(xs.ev_head + kept) % EVENT_QUEUE] = *ev;
		kept++;
	}
	xs.ev_count = kept;
	return rc;
}

unsigned int xs_dispatch_watches(void)
{
	unsigned int ran = 0;

	receive();
	while (xs.ev_count) {
		struct event ev = xs.events[xs.ev_head];

		xs.ev_head = (xs.ev_head + 1) % EVENT_QUEUE;
		xs.ev_count--;
		if (xs.watches[ev.watch].used) {
			xs.watches[ev.watch].fn(ev.path, xs.watches[ev.watch].arg);
			ran++;
		}
	}
	for (unsigned int id = 0; id < WATCH_COUNT; id++) {
		struct watch *w = &xs.watches[id];

		if (w->used && w->overflow) {
			set_overflow(w, false);
			w->fn(w->path, w->arg);
			ran++;
		}
	}
	return ran;
}

bool xs_watches_pending(void)
{
	if (xs.ev_count || xs.overflow_count)
		return true;
	/*
	 * Messages that came after a request's reply are still in the ring, their event
	 * consumed by the request's wait: xs_dispatch_watches reads them. Impossible indexes
	 * count as pending too, so that it finds the ring broken.
	 */
	return xs_available() && !xs.reply_ready && xs_ring_pending(xs.intf) != 0;
}

int xs_transaction_start(xs_txn_t *tx)
{
	char *end;
	unsigned long id;
	int rc;

	xs.tx[0] = '\0';
	rc = request(XS_TRANSACTION_START, XS_TXN_NONE, 1);
	if (rc < 0)
		return rc;
	id = strtoul(xs.rx.body, &end, 10);
	if (end == xs.rx.body || *end != '\0' || id == 0 || id > UINT32_MAX) {
		log_error("xenstore: bad transaction id '%s'", xs.rx.body);
		return -EIO;
	}
	*tx = (xs_txn_t)id;
	return 0;
}

int xs_transaction_end(xs_txn_t tx, bool commit)
{
	return simple(XS_TRANSACTION_END, tx, commit ? "T" : "F", NULL, false);
}

int xs_transaction(xs_txn_fn fn, void *arg)
{
	for (int attempt = 1;; attempt++) {
		xs_txn_t tx;
		int rc = xs_transaction_start(&tx);

		if (rc)
			return rc;
		rc = fn(tx, arg);
		if (rc) {
			xs_transaction_end(tx, false);
			return rc;
		}
		rc = xs_transaction_end(tx, true);
		if (rc != -EAGAIN)
			return rc;
		if (attempt == TXN_RETRIES) {
			log_error("xenstore: transaction still conflicting after %d attempts",
				  attempt);
			return rc;
		}
		log_debug("xenstore: transaction conflict, retrying (attempt %d)", attempt + 1);
	}
}
