/*
 * Xenstore client over the shared ring (io/xs_wire.h, docs/misc/xenstore.txt).
 * One request is in flight at a time; watch events are queued as they arrive and their
 * handlers run from the main loop (xs_dispatch_watches), never inside another request.
 */
#ifndef HYP_XS_H
#define HYP_XS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct xenstore_domain_interface;

/** Transaction id: XS_TXN_NONE outside a transaction. */
typedef uint32_t xs_txn_t;
#define XS_TXN_NONE 0u

/** Longest watch path kept with a queued event; longer ones arrive as the watch's own path. */
#define XS_WATCH_PATH_MAX 256
/** How long a request may wait for xenstored before failing with -ETIMEDOUT. */
#define XS_TIMEOUT_NS (10ull * 1000 * 1000 * 1000)

/** Watch handler: `path` is the node that changed (or the watched path itself). */
typedef void (*xs_watch_fn)(const char *path, void *arg);
/** Body of a transaction, run again when the commit reports -EAGAIN. */
typedef int (*xs_txn_fn)(xs_txn_t tx, void *arg);

/** Uses the ring at intf (already mapped) and event channel `port`; polls until xs_use_evtchn. */
int xs_init(struct xenstore_domain_interface *intf, uint32_t port);
/**
 * How the client sleeps until event channel `port` fires or deadline_ns passes: 0, or
 * -ETIMEDOUT once past. It must run that port's handler and no other (boot/loop.c's
 * loop_wait_port): a xenstore call made from other work must not run handlers under it.
 */
typedef int (*xs_wait_fn)(uint32_t port, uint64_t deadline_ns);
/** Binds the xenstore event channel and waits for it with `wait` instead of polling from now on. */
int xs_use_evtchn(xs_wait_fn wait);
/** Whether xs_init succeeded. */
bool xs_available(void);

/** XS_READ into buf (NUL-terminated); returns the value's length or -errno (-E2BIG if too long). */
int xs_read(xs_txn_t tx, const char *path, char *buf, size_t size);
/** XS_WRITE of a string value; returns 0 or -errno. */
int xs_write(xs_txn_t tx, const char *path, const char *value);
/** XS_MKDIR; returns 0 or -errno. */
int xs_mkdir(xs_txn_t tx, const char *path);
/** XS_RM; returns 0 or -errno. */
int xs_rm(xs_txn_t tx, const char *path);
/** XS_DIRECTORY: NUL-separated child names into buf; returns how many, or -errno. */
int xs_directory(xs_txn_t tx, const char *path, char *buf, size_t size);
/** XS_GET_DOMAIN_PATH for a domain id; returns the path length or -errno. */
int xs_get_domain_path(unsigned int domid, char *buf, size_t size);

/** XS_WATCH; returns a watch id (>= 0) for xs_unwatch, or -errno. The watch fires once at once. */
int xs_watch(const char *path, xs_watch_fn fn, void *arg);
/** XS_UNWATCH of a watch id; drops its queued events. Returns 0 or -errno. */
int xs_unwatch(int id);
/**
 * Whether watch events wait for xs_dispatch_watches: queued (by any request, e.g. one made
 * by deferred work, with no interrupt left to wake the main loop), overflowed, or still in
 * the ring behind a request's reply. A few loads: the main loop asks at every pass.
 */
bool xs_watches_pending(void);
/** Runs the handlers of queued watch events; returns how many ran. */
unsigned int xs_dispatch_watches(void);

/** XS_TRANSACTION_START; returns 0 or -errno. */
int xs_transaction_start(xs_txn_t *tx);
/** XS_TRANSACTION_END; returns 0, -EAGAIN when the transaction must be retried, or -errno. */
int xs_transaction_end(xs_txn_t tx, bool commit);
/** Runs fn in a transaction and commits, retrying on -EAGAIN (up to 16 times). */
int xs_transaction(xs_txn_fn fn, void *arg);

#endif
