/* Event channels, 2-level ABI (public/event_channel.h), with a per-port dispatch table. */
#ifndef HYP_EVTCHN_H
#define HYP_EVTCHN_H

#include <stdbool.h>
#include <stdint.h>

struct shared_info;
struct vcpu_info;

/** Handler run from the main loop when `port` is pending; `arg` is what evtchn_bind got. */
typedef void (*evtchn_handler_fn)(uint32_t port, void *arg);

/** Uses this shared_info and vCPU 0's vcpu_info for the pending/mask bitmaps. */
void evtchn_init(struct shared_info *shared, struct vcpu_info *vcpu);
/** EVTCHNOP_alloc_unbound: a port that `remote_dom` may bind to; returns port or -errno. */
int evtchn_alloc_unbound(uint16_t remote_dom);
/** EVTCHNOP_bind_interdomain to (remote_dom, remote_port); returns the local port or -errno. */
int evtchn_bind_interdomain(uint16_t remote_dom, uint32_t remote_port);
/** EVTCHNOP_send on a local port; returns 0 or -errno. */
int evtchn_send(uint32_t port);
/** EVTCHNOP_close; also forgets the port's handler. Returns 0 or -errno. */
int evtchn_close(uint32_t port);
/**
 * Sets the handler of `port` and unmasks it; returns 0, -EINVAL for a bad port or
 * -ENODEV before evtchn_init.
 */
int evtchn_bind(uint32_t port, evtchn_handler_fn fn, void *arg);
/**
 * Opens an interdomain channel from domain `self` to itself (EVTCHNOP_alloc_unbound, then
 * EVTCHNOP_bind_interdomain) and binds it: an event sent on *tx runs fn(*rx, arg). Xen marks
 * the freshly bound *tx pending, so *tx gets evtchn_ignore. Returns 0, or -errno with nothing
 * left open.
 */
int evtchn_bind_loopback(uint16_t self, evtchn_handler_fn fn, void *arg, uint32_t *rx,
                         uint32_t *tx);
/** Masks `port` so that it raises no upcall (ports past the 2-level limit are ignored). */
void evtchn_mask(uint32_t port);
/** Unmasks `port`; asks Xen to re-deliver an event that arrived while it was masked. */
void evtchn_unmask(uint32_t port);
/** A handler for ports whose events only need to wake the main loop. */
void evtchn_ignore(uint32_t port, void *arg);
/**
 * Scans the pending bitmaps after an upcall (Linux events_2l.c order) and runs each
 * pending, unmasked port's handler. Returns the number of handlers run.
 */
unsigned int evtchn_dispatch(void);
/**
 * Runs the handler of `port` only, if it is pending; the other pending ports stay pending for
 * the next evtchn_dispatch (for a wait that must not run other handlers, e.g. xenstore's).
 * Returns 1 if it ran, else 0.
 */
unsigned int evtchn_dispatch_port(uint32_t port);
/** Whether Xen flagged events for this vCPU that evtchn_dispatch has not looked at yet. */
bool evtchn_upcall_pending(void);
/** Whether evtchn_dispatch_port left events of other ports for the next evtchn_dispatch. */
bool evtchn_deferred(void);
/** Returns how many events arrived on ports without a handler (those ports get masked). */
uint64_t evtchn_stray_count(void);

#endif
