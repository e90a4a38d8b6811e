/*
 * mmio-lat: the cost of one virtio-mmio register access from a Linux guest, i.e. one bare
 * IOREQ round trip through the backend that serves the window (make bench: the null-IOREQ
 * floor). Maps the device's first page through /dev/mem and times N 32-bit reads of
 * MagicValue (offset 0), one at a time, with CLOCK_MONOTONIC.
 *
 *   mmio-lat ADDRESS [COUNT]     e.g. mmio-lat 0x2000000 2000
 *
 * Prints "mmio-lat: N reads of 0x74726976 at 0x2000000: p50 X ns, p99 Y ns, max Z ns".
 * Runs as root in the guest, with no driver bound to the device (the driver would race it).
 * Static arm64 binary, built by tools/bench.sh with Debian's cross compiler.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static int cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	unsigned long addr, count = 2000;
	volatile uint32_t *reg;
	uint64_t *ns;
	uint32_t magic = 0;
	void *page;
	int fd;

	if (argc < 2) {
		fprintf(stderr, "usage: mmio-lat ADDRESS [COUNT]\n");
		return 2;
	}
	addr = strtoul(argv[1], NULL, 0);
	if (argc > 2)
		count = strtoul(argv[2], NULL, 0);
	if (addr % 4096 || count == 0 || count > 1000000) {
		fprintf(stderr, "mmio-lat: ADDRESS must be page-aligned, COUNT 1..1000000\n");
		return 2;
	}
	ns = calloc(count, sizeof(*ns));
	fd = open("/dev/mem", O_RDONLY | O_SYNC);
	if (!ns || fd < 0) {
		perror("mmio-lat: /dev/mem");
		return 1;
	}
	page = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, (off_t)addr);
	if (page == MAP_FAILED) {
		perror("mmio-lat: mmap");
		return 1;
	}
	reg = page;
	for (unsigned long i = 0; i < count; i++) {
		uint64_t t = now_ns();

		magic = reg[0];
		ns[i] = now_ns() - t;
	}
	qsort(ns, count, sizeof(*ns), cmp);
	printf("mmio-lat: %lu reads of 0x%08x at 0x%lx: p50 %llu ns, p99 %llu ns, max %llu ns\n",
	       count, magic, addr, (unsigned long long)ns[count / 2],
	       (unsigned long long)ns[count * 99 / 100], (unsigned long long)ns[count - 1]);
	return magic == 0x74726976 ? 0 : 1;
}
