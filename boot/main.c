/*
 * Start-up: device tree, configuration, Xen (version, shared_info, console, GIC, event
 * channels, xenstore), then the main loop until the toolstack asks us to stop.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xen/xen.h>
#include <xen/sched.h>
#include <xen/hvm/params.h>
#include <xen/io/xs_wire.h>

#include "arch/cpu.h"
#include "arch/gic.h"
#include "arch/mmu.h"
#include "arch/pl011.h"
#include "arch/psci.h"
#include "arch/timer.h"
#include "boot/backend.h"
#include "boot/cards.h"
#include "boot/pci.h"
#include "boot/config.h"
#include "boot/diag.h"
#include "boot/dt.h"
#include "boot/latency.h"
#include "boot/loop.h"
#include "boot/main.h"
#include "boot/ram.h"
#include "boot/xenboot.h"
#include "hyp/frames.h"
#include "hyp/upcall.h"
#include "hyp/xen.h"
#include "hyp/xs.h"
#include "lib/log.h"

static struct dt_info dt;
static struct config cfg;
static struct xen_info xen;
static struct diag_latency latency;
static bool console_attached;
static uint64_t dtb_base;

static struct {
	uint16_t domid;
	char name[64];
	char path[64];
} self;

void main_crash(const char *why)
{
	log_error("fatal: %s", why);
	if (dt.xen) {
		/* A crash before the console was up: get the buffered log out if we can. */
		if (!console_attached)
			xenboot_attach_console(&xen);
		xen_shutdown(SHUTDOWN_crash);
	}
	arch_psci_system_off(dt.psci);
	arch_cpu_halt();
}

static void map_or_die(const char *what, uint64_t base, uint64_t size, enum mmu_attr attr)
{
	int rc = arch_mmu_map(base, size, attr);

	if (rc) {
		log_error("mmu: cannot map %s at %#llx+%#llx (%d)", what, (unsigned long long)base,
			  (unsigned long long)size, rc);
		main_crash("memory map");
	}
}

static void log_platform(void)
{
	for (unsigned int i = 0; i < dt.memory_count; i++)
		log_info("memory: %#llx-%#llx (%llu MiB)", (unsigned long long)dt.memory[i].base,
			 (unsigned long long)(dt.memory[i].base + dt.memory[i].size),
			 (unsigned long long)(dt.memory[i].size >> 20));
	if (dt.gic.version == 3)
		log_info("gic: GICv3, distributor %#llx, redistributors %#llx",
			 (unsigned long long)dt.gic.dist_base,
			 (unsigned long long)dt.gic.redist_base);
	else
		log_info("gic: GICv2, distributor %#llx, CPU interface %#llx",
			 (unsigned long long)dt.gic.dist_base, (unsigned long long)dt.gic.cpu_base);
	log_info("timer: %llu Hz, virtual timer PPI %u",
		 (unsigned long long)arch_timer_frequency(), dt.timer_irq);
	log_info("bootargs: '%s'", dt.bootargs);
}

/* debug_fault=: raise the requested exception so that the register dump can be checked. */
static void raise_debug_fault(void)
{
	switch (cfg.debug_fault) {
	case CONFIG_FAULT_DATA_ABORT: {
		/* Top of the 48-bit space: never mapped by the identity map. */
		uintptr_t addr = (1ull << 47) + 8;

		log_warn("debug_fault: reading unmapped address %#lx on request", (unsigned long)addr);
		__asm__ volatile("" : "+r"(addr)); /* hide the constant from the compiler */
		(void)*(volatile uint64_t *)addr;
		break;
	}
	case CONFIG_FAULT_UNDEFINED:
		log_warn("debug_fault: executing an undefined instruction on request");
		__asm__ volatile("udf #0");
		break;
	case CONFIG_FAULT_NONE:
		break;
	}
}

/* No hypervisor: say what we found on the UART, then power off; there is nothing to serve. */
/*
 * SD host controllers on the PCI bus, as the bus's owner (bare metal, or Xen's hardware
 * domain): vdisk gives them their BARs and adds them to dt.sdhci.
 */
static void pci_cards(void)
{
	if (dt.pci.present) {
		struct pci_bridge b = {
		    .ecam = dt.pci.ecam,
		    .mem_cpu = dt.pci.mem_cpu,
		    .mem_pci = dt.pci.mem_pci,
		    .mem_size = dt.pci.mem_size,
		};
		struct pci_function f[DT_SDHCI_MAX];
		unsigned int n;

		map_or_die("PCI configuration", dt.pci.ecam, PCI_BUS0_ECAM_SIZE, MMU_DEVICE);
		n = pci_setup_class(&b, PCI_CLASS_SD_HOST, f, DT_SDHCI_MAX - dt.sdhci_count);
		for (unsigned int i = 0; i < n; i++) {
			struct dt_sdhci *h = &dt.sdhci[dt.sdhci_count++];

			*h = (struct dt_sdhci){
			    .reg = {f[i].bar0, f[i].bar0_size},
			    .irq = dt_pci_intx(&dt.pci, f[i].dev, f[i].fn, f[i].pin),
			};
			snprintf(h->compatible, sizeof(h->compatible), "pci%x,%x", f[i].vendor,
				 f[i].device);
			log_info(
			    "pci: 00:%02x.%u %04x:%04x, an SD host controller: BAR 0 at %#llx, "
			    "INT%c# -> interrupt %u",
			    f[i].dev, f[i].fn, f[i].vendor, f[i].device,
			    (unsigned long long)f[i].bar0, f[i].pin ? 'A' + f[i].pin - 1 : '-',
			    h->irq);
		}
	}
}

/* Bare metal: the cards on the bus and in the device tree; sd_selftest= writes and reads back. */
static void bare_cards(void)
{
	pci_cards();
	if (dt.sdhci_count == 0)
		return;
	/* Bare metal: our addresses are the bus's, so the controller can DMA into our memory. */
	log_info("mmc: %u of %u SD card(s) usable", cards_init(&dt, true), dt.sdhci_count);
	if (cfg.sd_selftest != CONFIG_SD_SELFTEST_OFF)
		cards_selftest(0, cfg.sd_selftest);
}

static void __attribute__((noreturn)) run_bare(void)
{
	if (dt.uart_base) {
		map_or_die("UART", dt.uart_base, dt.uart_size ? dt.uart_size : 0x1000, MMU_DEVICE);
		arch_pl011_init(dt.uart_base);
		log_set_sink(arch_pl011_write);
	}
	log_platform();
	raise_debug_fault();
	bare_cards();
	log_warn("xen: no /hypervisor node: not running under Xen, nothing to serve");
	log_info("powering off");
	arch_psci_system_off(dt.psci);
	log_error("psci: SYSTEM_OFF failed");
	arch_cpu_halt();
}

static void shutdown_requested(const char *path, void *arg);

/* Reads and clears control/shutdown in one transaction, as Linux's manage.c does. */
static int take_shutdown_request(xs_txn_t tx, void *arg)
{
	char *value = arg;
	int rc = xs_read(tx, "control/shutdown", value, 32);

	if (rc == -ENOENT || (rc >= 0 && value[0] == '\0')) {
		value[0] = '\0';
		return 0;
	}
	if (rc < 0)
		return rc;
	return xs_write(tx, "control/shutdown", "");
}

static void shutdown_requested(const char *path, void *arg)
{
	char value[32];
	int rc = xs_transaction(take_shutdown_request, value);

	if (rc) {
		log_error("control: reading control/shutdown failed (%d)", rc);
		return;
	}
	if (value[0] == '\0')
		return;
	if (strcmp(value, "poweroff") == 0 || strcmp(value, "halt") == 0) {
		log_info("control: shutdown request '%s'", value);
		loop_stop(SHUTDOWN_poweroff);
	} else if (strcmp(value, "reboot") == 0) {
		log_info("control: shutdown request '%s'", value);
		loop_stop(SHUTDOWN_reboot);
	} else {
		log_warn("control: shutdown request '%s' is not supported, ignored", value);
	}
}

static int xenstore_start(void)
{
	uint64_t pfn, port;
	char buf[16];
	char *end;
	int rc;

	if (xen_hvm_param_get(HVM_PARAM_STORE_PFN, &pfn) || pfn == 0 || pfn == ~0ull ||
	    xen_hvm_param_get(HVM_PARAM_STORE_EVTCHN, &port) || port == 0) {
		log_warn("xenstore: none for this domain");
		return -ENODEV;
	}
	map_or_die("xenstore ring", pfn << XEN_PAGE_SHIFT, XEN_PAGE_SIZE, MMU_NORMAL);
	rc = xs_init((struct xenstore_domain_interface *)(uintptr_t)(pfn << XEN_PAGE_SHIFT),
		     (uint32_t)port);
	if (rc)
		return rc;

	/* Polled: the event channel machinery is not needed to learn who we are. */
	rc = xs_read(XS_TXN_NONE, "domid", buf, sizeof(buf));
	if (rc < 0) {
		log_error("xenstore: reading our domid failed (%d)", rc);
		return rc;
	}
	unsigned long id = strtoul(buf, &end, 10);
	if (*end != '\0' || id >= DOMID_FIRST_RESERVED) {
		log_error("xenstore: domid '%s' is not a domain id", buf);
		return -EINVAL;
	}
	self.domid = (uint16_t)id;
	log_info("xenstore: ring at %#llx, event channel %llu (polling)",
		 (unsigned long long)(pfn << XEN_PAGE_SHIFT), (unsigned long long)port);

	rc = xs_use_evtchn(loop_wait_port);
	if (rc) {
		log_error("xenstore: binding event channel %llu failed (%d)",
			  (unsigned long long)port, rc);
		return rc;
	}
	if ((rc = xs_get_domain_path(self.domid, self.path, sizeof(self.path))) < 0 ||
	    (rc = xs_read(XS_TXN_NONE, "name", self.name, sizeof(self.name))) < 0) {
		log_error("xenstore: reading our domain path and name failed (%d)", rc);
		return rc;
	}
	log_info("xenstore: domain %u '%s' at %s (event channel)", self.domid, self.name,
		 self.path);
	return 0;
}

static void control_start(void)
{
	int rc;

	if ((rc = xs_write(XS_TXN_NONE, "control/feature-poweroff", "1")) ||
	    (rc = xs_write(XS_TXN_NONE, "control/feature-reboot", "1")))
		log_warn("control: cannot advertise shutdown features (%d)", rc);
	rc = xs_watch("control/shutdown", shutdown_requested, NULL);
	if (rc < 0)
		log_error("control: cannot watch control/shutdown (%d); xl shutdown will not work",
			  rc);
}

/*
 * Memory for serving disks: RAM disks come from what memory= leaves after the image (up
 * to the device tree Xen put at the end), guest pages are mapped into the first extended
 * region Xen lists in /hypervisor.
 */
static int storage_start(void)
{
	uint64_t img_start, img_end, end = 0;
	int frames;

	if (dt.xen_region_count < 2) {
		log_error("backend: /hypervisor lists no extended region to map guest memory into; "
			  "not serving disks");
		return -ENODEV;
	}
	frames = frames_init(dt.xen_regions[1].base, dt.xen_regions[1].size);
	if (frames < 0) {
		log_error("backend: cannot use extended region %#llx+%#llx (%d)",
			  (unsigned long long)dt.xen_regions[1].base,
			  (unsigned long long)dt.xen_regions[1].size, frames);
		return frames;
	}
	arch_mmu_image_bounds(&img_start, &img_end);
	for (unsigned int i = 0; i < dt.memory_count; i++)
		if (img_start >= dt.memory[i].base &&
		    img_start < dt.memory[i].base + dt.memory[i].size)
			end = dt.memory[i].base + dt.memory[i].size;
	if (dtb_base > img_end && dtb_base < end)
		end = dtb_base;
	ram_init(img_end, end);
	/* As Xen's hardware domain vdisk owns the PCI bus: nobody else will set it up. */
	if (xen.dom0)
		pci_cards();
	log_info("backend: %llu MiB free for RAM disks, %d frames at %#llx for guest mappings",
		 (unsigned long long)(ram_free() >> 20), frames,
		 (unsigned long long)dt.xen_regions[1].base);
	if (dt.sdhci_count) {
		/* DMA only where guest-physical is physical: a domU has no IOMMU to translate. */
		log_info("backend: %u of %u SD card(s) usable", cards_init(&dt, xen.direct_mapped),
		         dt.sdhci_count);
		cards_use_irqs(&dt, backend_card_event);
	}
	return 0;
}

static void __attribute__((noreturn)) run_xen(void)
{
	struct loop_irqs irqs = {.upcall = dt.upcall_irq, .timer = dt.timer_irq};
	bool have_xenstore, know_self;
	unsigned int reason;
	int rc;

	if (xenboot_init(&xen))
		main_crash("Xen start-up failed");
	console_attached = xenboot_attach_console(&xen);
	log_platform();
	log_info("xen: version %u.%u%s (%s), %s%s", xen.major, xen.minor, xen.extra,
	         dt.xen_compatible, xen.dom0 ? "hardware domain" : "guest domain",
	         xen.direct_mapped ? ", direct-mapped" : "");
	if (xen.major < XEN_MIN_MAJOR || (xen.major == XEN_MIN_MAJOR && xen.minor < XEN_MIN_MINOR)) {
		log_error("xen: version %u.%u is older than %u.%u, which vdisk needs", xen.major,
			  xen.minor, XEN_MIN_MAJOR, XEN_MIN_MINOR);
		main_crash("Xen too old");
	}
	log_info("xen: event channel upcall on PPI %u", dt.upcall_irq);

	map_or_die("GIC distributor", dt.gic.dist_base, dt.gic.dist_size, MMU_DEVICE);
	if (dt.gic.version == 3)
		map_or_die("GIC redistributors", dt.gic.redist_base, dt.gic.redist_size,
			   MMU_DEVICE);
	else
		map_or_die("GIC CPU interface", dt.gic.cpu_base, dt.gic.cpu_size, MMU_DEVICE);
	if (arch_gic_init(&dt.gic))
		main_crash("GIC initialisation failed");

	/* Before xenstore: its requests sleep until the event channel upcall wakes them. */
	loop_init(&irqs);
	have_xenstore = xenstore_start() == 0;

	/* A loopback channel names our own domain id: dom0 is 0, a domU learns it from xenstore. */
	know_self = xen.dom0 || have_xenstore;
	if (cfg.evtchn_bench && !know_self) {
		log_warn("evtchn: latency measurement skipped: own domain id unknown without xenstore");
	} else if (cfg.evtchn_bench) {
		rc = diag_evtchn_latency(self.domid, cfg.evtchn_bench, &latency);
		if (rc == 0)
			log_info("evtchn: upcall latency over %u events: min %llu ns, median %llu ns, "
				 "p99 %llu ns, max %llu ns", latency.sample_count,
				 (unsigned long long)latency.min_ns,
				 (unsigned long long)latency.median_ns,
				 (unsigned long long)latency.p99_ns,
				 (unsigned long long)latency.max_ns);
		else
			log_error("evtchn: latency measurement failed (%d)", rc);
	}
	if (cfg.upcall_sample_ms && !know_self) {
		log_warn("evtchn: upcall latency not sampled while serving: own domain id unknown "
		         "without xenstore");
	} else if (cfg.upcall_sample_ms) {
		rc = upcall_start(self.domid, cfg.upcall_sample_ms * 1000000ull);
		if (rc == 0)
			log_info("evtchn: upcall latency sampled every %u ms while serving",
			         cfg.upcall_sample_ms);
		else
			log_error("evtchn: no loopback channel to sample the upcall latency (%d)",
			          rc);
	}
	latency_log_every(cfg.latency_period);
	if (have_xenstore) {
		control_start();
		diag_start(latency.sample_count ? &latency : NULL);
		if (storage_start() == 0)
			backend_start(cfg.serve);
	} else if (cfg.disk_count) {
		/* No xenstore (vdisk as dom0 of a dom0less system): the disks come from bootargs.
		 */
		if (storage_start() == 0)
			for (unsigned int i = 0; i < cfg.disk_count; i++)
				backend_add_fixed(cfg.serve, cfg.disks[i], i);
	}
	log_info("vdisk: ready");
	raise_debug_fault();

	reason = loop_run();
	log_info("vdisk: shutting down (%s)", reason == SHUTDOWN_reboot ? "reboot" : "poweroff");
	if (have_xenstore)
		xs_write(XS_TXN_NONE, "data/vdisk/status", "stopped");
	rc = xen_shutdown(reason);
	log_error("xen: SCHEDOP_shutdown failed (%d)", rc);
	arch_cpu_halt();
}

void main_start(uint64_t dtb_pa)
{
	const void *fdt = (const void *)(uintptr_t)dtb_pa;
	uint64_t img_start, img_end, clock_start;
	int bad;

	dtb_base = dtb_pa;
	arch_mmu_image_bounds(&img_start, &img_end);
	log_info("vdisk %s starting: image at %#llx-%#llx, device tree at %#llx, entered at EL%u",
		 VDISK_VERSION, (unsigned long long)img_start, (unsigned long long)img_end,
		 (unsigned long long)dtb_pa, arch_cpu_entry_el());
	/*
	 * Log times are this domain's clock (the virtual counter, from its creation under Xen);
	 * this puts them on the system counter Xen's raw console timestamps use (boot timing).
	 */
	clock_start = arch_timer_ticks_to_ns(arch_timer_system_counter() - arch_timer_counter());
	log_info("time: this domain's clock started at %llu.%06llu s of the system counter",
	         (unsigned long long)(clock_start / 1000000000ull),
	         (unsigned long long)(clock_start % 1000000000ull / 1000));
	if (dt_parse(fdt, &dt))
		main_crash("unusable device tree");
	for (unsigned int i = 0; i < dt.memory_count; i++)
		map_or_die("RAM", dt.memory[i].base, dt.memory[i].size, MMU_NORMAL);
	arch_timer_set_irq(dt.timer_irq);
	bad = config_parse(dt.bootargs, &cfg);
	log_set_level(cfg.loglevel);
	if (bad)
		log_warn("bootargs: %d bad setting(s), defaults used for them", bad);
	if (dt.xen)
		run_xen();
	run_bare();
}
