/*
 * Xen bring-up shared by vdisk (boot/main.c) and the test guests built from this tree
 * (tests/guests/): version and features, shared_info, event channels, the log's console.
 */
#include <stdint.h>

#include <xen/xen.h>

#include "boot/xenboot.h"
#include "hyp/console.h"
#include "hyp/evtchn.h"
#include "hyp/xen.h"
#include "lib/log.h"

/*
 * XENMEM_add_to_physmap replaces this whole frame with Xen's shared_info page, so nothing
 * else may share the frame: the union pads it to a full page.
 */
static union {
	struct shared_info info;
	uint8_t frame[XEN_PAGE_SIZE];
} shared_page __attribute__((aligned(XEN_PAGE_SIZE)));

static void console_io_sink(const char *buf, size_t len)
{
	xen_console_io_write(buf, len);
}

int xenboot_init(struct xen_info *xen)
{
	int rc = xen_probe(xen);

	if (rc) {
		log_error("xen: XENVER hypercalls failed (%d)", rc);
		return rc;
	}
	rc = xen_map_shared_info(&shared_page.info);
	if (rc) {
		log_error("xen: cannot map shared_info at %p (%d)", (void *)&shared_page, rc);
		return rc;
	}
	evtchn_init(&shared_page.info, &shared_page.info.vcpu_info[0]);
	return 0;
}

bool xenboot_attach_console(const struct xen_info *xen)
{
	if (console_init() == 0)
		log_set_sink(console_write);
	else if (xen->dom0)
		log_set_sink(console_io_sink);
	else
		return false;
	return true;
}
