#!/usr/bin/env python3
"""Writes the seed corpora in tests/fuzz/corpus/<target>/ (committed; rerun after changing
an input format). Each seed is a small valid input: a request chain, bootargs, a reply..."""
import os
import zlib
import struct

TOP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def seed(target, name, data):
    d = os.path.join(TOP, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


# ---- vq_blk: see the OP_* list in fuzz_vq_blk.c ------------------------------------------
OP_WRITE, OP_DESC, OP_AVAIL, OP_IDX, OP_NOTIFY, OP_FLIP, OP_SETUP, OP_QRESET = range(8)
NEXT, WRITE, INDIRECT = 1, 2, 4
HDR, STATUS, DATA, IND = 0x4000, 0x5000, 0x8000, 0x3000


def desc(slot, addr, length, flags, nxt):
    return struct.pack("<BHBHIHH", OP_DESC, slot, 0, addr, length, flags, nxt)


def write(off, data):
    return struct.pack("<BHB", OP_WRITE, off, len(data)) + data


def header(at, typ, sector):
    return write(at, struct.pack("<IIQ", typ, 0, sector))


def avail(head):
    return struct.pack("<BH", OP_AVAIL, head)


NOTIFY = bytes([OP_NOTIFY, 0])


def chain(first, bufs):
    """Descriptors first.. for (addr, len, flags) with NEXT links."""
    out = b""
    for i, (addr, length, flags) in enumerate(bufs):
        f = flags | (NEXT if i + 1 < len(bufs) else 0)
        out += desc(first + i, addr, length, f, first + i + 1)
    return out


def blk(flags, setup, body):
    return bytes([flags, setup]) + body


rw = lambda t, s, n, w: header(HDR, t, s) + chain(0, [(HDR, 16, 0), (DATA, n, WRITE if w else 0), (STATUS, 1, WRITE)]) + avail(0) + NOTIFY
seed("vq_blk", "read", blk(0, 6, rw(0, 1, 512, True)))
seed("vq_blk", "write", blk(0, 6, write(DATA, b"\x5a" * 32) + rw(1, 3, 1024, False)))
seed("vq_blk", "write_read_only", blk(1, 6, rw(1, 3, 512, False)))
seed("vq_blk", "get_id", blk(0, 3, header(HDR, 8, 0) + chain(0, [(HDR, 16, 0), (DATA, 20, WRITE), (STATUS, 1, WRITE)]) + avail(0) + NOTIFY))
seed("vq_blk", "flush_event_idx_off", blk(0, 0x24, header(HDR, 4, 0) + chain(0, [(HDR, 16, 0), (STATUS, 1, WRITE)]) + avail(0) + NOTIFY))
seed("vq_blk", "discard", blk(0, 6, header(HDR, 11, 0) + write(DATA, struct.pack("<QII", 2, 4, 0)) + chain(0, [(HDR, 16, 0), (DATA, 16, 0), (STATUS, 1, WRITE)]) + avail(0) + NOTIFY))
seed("vq_blk", "write_zeroes", blk(0, 6, header(HDR, 13, 0) + write(DATA, struct.pack("<QII", 8, 8, 1)) + chain(0, [(HDR, 16, 0), (DATA, 16, 0), (STATUS, 1, WRITE)]) + avail(0) + NOTIFY))
# An indirect chain: one descriptor naming a table of three at IND (slot IND/16 = 0x300).
ind = header(HDR, 0, 2) + chain(IND // 16, [(HDR, 16, 0), (DATA, 512, WRITE), (STATUS, 1, WRITE)])
ind = ind.replace(struct.pack("<HH", NEXT, IND // 16 + 1), struct.pack("<HH", NEXT, 1)).replace(struct.pack("<HH", NEXT | WRITE, IND // 16 + 2), struct.pack("<HH", NEXT | WRITE, 2))
seed("vq_blk", "indirect", blk(0, 6, ind + desc(5, IND, 48, INDIRECT, 0) + avail(5) + NOTIFY))
# Two requests, a kick each, a split header, then a queue reset and a device reset.
two = header(HDR, 0, 0) + chain(0, [(HDR, 10, 0), (HDR + 10, 6, 0), (DATA, 512, WRITE), (STATUS, 1, WRITE)]) + avail(0) + NOTIFY
two += header(HDR + 0x20, 1, 4) + chain(8, [(HDR + 0x20, 16, 0), (DATA + 0x1000, 512, 0), (STATUS + 0x10, 1, WRITE)]) + avail(8) + NOTIFY
two += bytes([OP_QRESET]) + bytes([OP_SETUP, 6]) + avail(0) + NOTIFY
seed("vq_blk", "two_requests_and_resets", blk(0, 6, two))
# A driver that changes the header type while the device reads it, and a broken queue.
seed("vq_blk", "flip", blk(0, 6, struct.pack("<BBHB", OP_FLIP, 6, HDR, 1) + rw(0, 1, 512, True)))
seed("vq_blk", "loop_then_reset", blk(0, 2, desc(0, DATA, 16, NEXT, 1) + desc(1, DATA, 16, NEXT, 0) + avail(0) + NOTIFY + NOTIFY + bytes([OP_SETUP, 2]) + rw(0, 0, 512, True)))
seed("vq_blk", "avail_idx_jump", blk(0, 4, struct.pack("<BH", OP_IDX, 100) + NOTIFY))


# ---- vmmio: 8-byte accesses (kind, u16 offset, u32 value); see fuzz_vmmio.c ---------------
def rd(off, width_sel=0):
    return struct.pack("<BHI", width_sel << 1, off, 0)


def wr(off, val, width_sel=0):
    return struct.pack("<BHI", width_sel << 1 | 1, off, val)


def gw(off, val):
    return struct.pack("<BHI", 0xFF, off, val)


G = 0x40000000
init = b"".join([rd(0x000), rd(0x004), rd(0x008), wr(0x070, 0), wr(0x070, 1), wr(0x070, 3),
                 wr(0x014, 0), rd(0x010), wr(0x014, 1), rd(0x010),
                 wr(0x024, 0), wr(0x020, 0x30000000 | 0x6246), wr(0x024, 1), wr(0x020, 3),
                 wr(0x070, 11), rd(0x070), wr(0x030, 0), rd(0x034), wr(0x038, 16),
                 wr(0x080, G), wr(0x084, 0), wr(0x090, G + 0x1000), wr(0x094, 0),
                 wr(0x0A0, G + 0x2000), wr(0x0A4, 0), wr(0x044, 1), rd(0x044), wr(0x070, 15)])
seed("vmmio", "linux_init", b"\x00" + init)
seed("vmmio", "init_notify_config", b"\x00" + init + wr(0x050, 0) + rd(0x060) + wr(0x064, 1) +
     rd(0x100, 3) + rd(0x108, 0) + rd(0x114, 1) + rd(0x100, 2) + rd(0x0FC))
# avail.idx far ahead: the notify breaks the queue and the device needs a reset.
seed("vmmio", "broken_queue_reset", b"\x00" + init + gw(0x1002, 100) + wr(0x050, 0) +
     rd(0x070) + rd(0x060) + wr(0x050, 0) + wr(0x044, 0) + wr(0x070, 0) + rd(0x070))
seed("vmmio", "bad_accesses", b"\x01" + rd(0x200) + rd(0x1FC) + rd(0x003) + rd(0x100, 6) +
     wr(0x070, 0x100) + wr(0x070, 4) + wr(0x100, 1, 1) + rd(0x0B0) + wr(0x030, 5) + rd(0x034) +
     struct.pack("<BHBI", 0x10, 0x70, 0xFF, 0))


# ---- config: bootargs lines ----------------------------------------------------------------
seed("config", "all_keys", "loglevel=debug evtchn_bench=0 debug_fault=none")
seed("config", "numbers", "loglevel=2\tevtchn_bench=10000\n")
seed("config", "bad_words", "  loglevel=loud foo evtchn_bench=10001 debug_fault=data-abort x=")
seed("config", "long_word", "loglevel=" + "9" * 140 + " debug_fault=undefined")
seed("config", "latency_keys", "upcall_sample_ms=250 latency_period=10 upcall_sample_ms=3600001")

# ---- target: xenstore params ---------------------------------------------------------------
for name, s in [("bytes", "ram:512"), ("kib", "ram:64K"), ("mib", "ram:64M"), ("gib", "ram:1G"),
                ("max", "ram:1024G"), ("too_big", "ram:1099511627777"), ("bad", "nbd:0"),
                ("latency", "ram:16M,latency=2ms"), ("latency_ns", "ram:1M,latency=999999999ns"),
                ("latency_range", "ram:16M,latency=50us-2ms"),
                ("latency_range_equal", "ram:1M,latency=1ms-1ms"),
                ("latency_range_widest", "ram:64K,latency=0ns-60s"),
                ("latency_range_backwards", "ram:1M,latency=2ms-50us"),
                ("mmc", "mmc:0"), ("mmc_part", "mmc:0:2")]:
    seed("target", name, s)


# ---- part: partition number, disk size in sectors (2 bytes), then the disk's first sectors ---
def part_seed(name, number, sectors, img):
    seed("part", name, bytes([number, sectors >> 8, sectors & 0xff]) + bytes(img))


def mbr_entry(img, sector, i, ptype, start, count):
    e = sector * 512 + 446 + 16 * i
    img[e + 4] = ptype
    img[e + 8:e + 12] = start.to_bytes(4, "little")
    img[e + 12:e + 16] = count.to_bytes(4, "little")
    img[sector * 512 + 510:sector * 512 + 512] = b"\x55\xaa"


mbr = bytearray(512 * 12)
mbr_entry(mbr, 0, 0, 0x83, 2, 4)
mbr_entry(mbr, 0, 1, 0x05, 6, 6)
mbr_entry(mbr, 6, 0, 0x83, 1, 2)
mbr_entry(mbr, 6, 1, 0x05, 3, 3)
mbr_entry(mbr, 9, 0, 0x83, 1, 2)
part_seed("mbr_primary", 1, 12, mbr)
part_seed("mbr_logical", 6, 12, mbr)


def gpt(sectors):
    img = bytearray(512 * 6)
    mbr_entry(img, 0, 0, 0xEE, 1, sectors - 1)
    entries = bytearray(512 * 2)  # 8 entries of 128 bytes
    entries[0] = 0xAF
    entries[32:40] = (4).to_bytes(8, "little")
    entries[40:48] = (sectors - 2).to_bytes(8, "little")
    h = bytearray(92)
    h[0:8] = b"EFI PART"
    h[8:12] = (0x10000).to_bytes(4, "little")
    h[12:16] = (92).to_bytes(4, "little")
    h[24:32] = (1).to_bytes(8, "little")
    h[32:40] = (sectors - 1).to_bytes(8, "little")
    h[40:48] = (4).to_bytes(8, "little")
    h[48:56] = (sectors - 2).to_bytes(8, "little")
    h[72:80] = (2).to_bytes(8, "little")
    h[80:84] = (8).to_bytes(4, "little")
    h[84:88] = (128).to_bytes(4, "little")
    h[88:92] = zlib.crc32(bytes(entries[:8 * 128])).to_bytes(4, "little")
    h[16:20] = zlib.crc32(bytes(h)).to_bytes(4, "little")
    img[512:512 + 92] = h
    img[1024:1024 + 1024] = entries
    return img


part_seed("gpt", 1, 16, gpt(16))


# ---- backend_check: layout, frontend dir, devid, present keys, NUL-separated values ----------
def keys(layout, fe, devid, present, values):
    return struct.pack("<BHIB", layout, fe, devid, present) + b"\0".join(v.encode() for v in values)


seed("backend_check", "libxl_417", keys(0, 3, 51712, 0x1F, ["3", "ram:64M", "w", "33554432", "33"]))
seed("backend_check", "libxl_418_ro", keys(1, 3, 51712, 0x1F, ["3", "ram:1G", "r", "0x2000200", "1019"]))
seed("backend_check", "no_mode", keys(1, 7, 1, 0x1B, ["7", "ram:512", "", "0x2000000", "32"]))
seed("backend_check", "bad_base", keys(0, 3, 51712, 0x1F, ["3", "ram:64M", "w", "33554433", "33"]))
seed("backend_check", "mmc_part", keys(0, 3, 51712, 0x1F, ["3", "mmc:0:2", "w", "33554432", "33"]))


# ---- xs_reply: client calls, each peer step taking one action; see fuzz_xs_reply.c ---------
XS_READ_OP, XS_DIR_OP, XS_DOMPATH_OP, XS_WATCH_OP, XS_UNWATCH_OP, XS_TXN_OP = range(6)
XS_DISPATCH_OP = 7
P_NOTHING, P_MSG, P_RAW, P_CHUNK = range(4)


def reply(payload, typ=None, req_id=None):
    """A reply to the outstanding request (its req_id and type unless given)."""
    flags = (1 if req_id is None else 0) | (2 if typ is None else 0)
    out = struct.pack("<BBB", P_MSG, flags, typ or 0)
    if req_id is not None:
        out += struct.pack("<I", req_id)
    return out + struct.pack("<H", len(payload)) + payload


size = lambda n: struct.pack("<H", n)
seed("xs_reply", "read", bytes([0, XS_READ_OP]) + size(100) + reply(b"ram:64M"))
seed("xs_reply", "read_evtchn", bytes([1, XS_READ_OP]) + size(100) + reply(b"ram:64M"))
seed("xs_reply", "read_wrapping", bytes([2]) + struct.pack("<I", 0xFFFFFFF0) + bytes([XS_READ_OP]) +
     size(100) + reply(b"x" * 40))
seed("xs_reply", "read_enoent", bytes([0, XS_READ_OP]) + size(100) + reply(b"ENOENT\0", typ=16))
seed("xs_reply", "directory", bytes([0, XS_DIR_OP]) + size(64) + reply(b"0\x0051712\x00768\x00"))
seed("xs_reply", "domain_path", bytes([0, XS_DOMPATH_OP]) + size(64) + struct.pack("<H", 3) +
     reply(b"/local/domain/3\0"))
seed("xs_reply", "transaction", bytes([0, XS_TXN_OP]) + reply(b"7\0"))
seed("xs_reply", "chunked", bytes([0, XS_READ_OP]) + size(300) + bytes([P_CHUNK, 40]) +
     reply(b"y" * 200) + bytes([P_NOTHING] * 6))
# A watch, its first event, an event for it in the middle of a read, a dispatch, an unwatch.
seed("xs_reply", "watch_events", bytes([0, XS_WATCH_OP]) + reply(b"OK\0") +
     bytes([XS_READ_OP]) + size(100) + reply(b"backend/virtio\x000\x00", typ=15, req_id=0) +
     reply(b"1") + bytes([XS_DISPATCH_OP, XS_UNWATCH_OP, 0]) + reply(b"OK\0"))
seed("xs_reply", "oversized", bytes([0, XS_READ_OP]) + size(100) +
     struct.pack("<BBBH", P_MSG, 3, 0, 4200) + b"z" * 4200 + bytes([P_NOTHING] * 8))


# ---- ioreq: a header, then actions; see fuzz_ioreq.c ----------------------------------------
IO_START, IO_STOP, IO_POST, IO_RAW, IO_UPCALL, IO_POLL = range(6)
IO_WIN = 0x02000000  # the window of header kind 0 (vdisk's)


def io_header(domid=1, window=0, seed=0x0123456789ABCDEF, extra=b""):
    return struct.pack("<HBQ", domid, window, seed) + extra


def io_start(vcpus, fail=0, ports=None):
    """A start; `ports`: the bind answers (0xFFFF fails that bind), one per vCPU bound."""
    ports = list(range(0x10, 0x10 + vcpus)) if ports is None else ports
    return struct.pack("<BBB", IO_START, vcpus, fail) + b"".join(struct.pack("<H", p) for p in ports)


def io_post(vcpu, read=True, size=4, offset=0, data=0, invalidate=False, ptr=0, df=0,
            state=None, typ=None, raw_size=None, count=None, addr=None):
    ctl = (1 if read else 0) | {1: 0, 2: 1, 4: 2, 8: 3}[size] << 1 | (8 if invalidate else 0)
    ctl |= (0x10 if addr is not None else 0) | ptr << 5 | df << 6
    raw, fields = 0, b""
    if state is not None:
        raw, fields = raw | 1, fields + struct.pack("<B", state)
    if typ is not None:
        raw, fields = raw | 2, fields + struct.pack("<B", typ)
    if raw_size is not None:
        raw, fields = raw | 4, fields + struct.pack("<I", raw_size)
    if count is not None:
        raw, fields = raw | 8, fields + struct.pack("<I", count)
    out = struct.pack("<BBB", IO_POST, vcpu, ctl | (0x80 if raw else 0))
    out += (struct.pack("<B", raw) if raw else b"") + fields
    out += struct.pack("<Q", addr) if addr is not None else struct.pack("<H", offset)
    return out + struct.pack("<Q", data)


def io_upcall(port=None, server_port=None, extra=0):
    spec = 0x8000 | server_port if server_port is not None else port
    return struct.pack("<BHB", IO_UPCALL, spec, extra)


IO_POLL_B = bytes([IO_POLL])
seed("ioreq", "linux_reads_writes", io_header() + io_start(2) +
     io_post(0, True, 4, 0x000) + io_upcall(server_port=0) +
     io_post(1, False, 4, 0x070, 0xF) + io_upcall(server_port=1) +
     io_post(0, True, 1, 0x100) + io_post(1, True, 8, 0x108) + IO_POLL_B + bytes([IO_STOP]))
seed("ioreq", "refused", io_header() + io_start(1) +
     io_post(0, True, 4, 0x200) + IO_POLL_B +
     io_post(0, True, 2, 0x1FF) + IO_POLL_B +
     io_post(0, True, 4, 0x10, ptr=1) + IO_POLL_B +
     io_post(0, False, 4, 0x10, count=2) + IO_POLL_B +
     io_post(0, True, 4, 0x10, typ=0) + IO_POLL_B +
     io_post(0, True, 4, 0x10, raw_size=3) + IO_POLL_B +
     io_post(0, True, 4, 0x10, df=1, count=0) + IO_POLL_B +
     io_post(0, True, 4, addr=0xFFFFFFFFFFFFFFFC) + IO_POLL_B +
     io_post(0, True, 4, invalidate=True) + IO_POLL_B)
seed("ioreq", "not_ready_other_vcpus", io_header() + io_start(2) +
     io_post(5, True, 4, 0x0) + io_post(0, True, 4, 0x0, state=3) +
     io_post(1, True, 4, 0x0, state=2) + io_upcall(port=7) + io_upcall(server_port=0) +
     IO_POLL_B + io_post(1, True, 4, 0x4) + io_upcall(port=3000, extra=0x81) + io_upcall(server_port=1))
seed("ioreq", "start_failures", io_header() + b"".join(io_start(2, f, []) for f in range(1, 7)) +
     io_start(0, 0, []) + io_start(129, 0, []) +
     struct.pack("<BBBI", IO_START, 0xFF, 0, 1000) + io_start(3, 0x08, [0x20, 0xFFFF]) +
     io_start(3, 0x0B, []) + io_start(3) + bytes([IO_STOP, IO_STOP]))
seed("ioreq", "posted_before_start", io_header() + io_post(0, True, 2, 0x8) +
     io_post(3, False, 1, 0x9, 0x1FF) + io_start(4) + IO_POLL_B)
seed("ioreq", "tiny_window", io_header(window=1, extra=struct.pack("<IB", 0x3000, 2)) +
     io_start(1) + io_post(0, True, 4, 0x0) + io_post(0, True, 2, 0x0) + IO_POLL_B)
seed("ioreq", "top_window", io_header(window=3, extra=struct.pack("<HH", 0x1FF, 0x200)) +
     io_start(1) + io_post(0, True, 8, addr=0xFFFFFFFFFFFFFE00) + IO_POLL_B)
seed("ioreq", "no_invalidate_op", io_header(window=4) + io_start(1) +
     io_post(0, True, 4, invalidate=True) + IO_POLL_B)
# An event on port 9 before the server binds it is masked as stray; binding unmasks it.
seed("ioreq", "stray_then_bound", io_header() + io_upcall(port=9) + io_post(0, True, 4, 0x0) +
     io_start(1, 0, [8]) + io_upcall(port=100) + io_post(0, True, 4, 0x0) + io_upcall(server_port=0))
seed("ioreq", "raw_page", io_header() + struct.pack("<BHB", IO_RAW, 0x14, 4) + b"\x05\0\0\0" +
     struct.pack("<BHB", IO_RAW, 0x1E, 2) + b"\x11\x01" + io_start(2) + IO_POLL_B)


# ---- gmem: u16 domid, then actions (op, guest, fate, ...); see fuzz_gmem.c ------------------
# (corpus/gmem/regress-* are inputs of the fuzzer's findings, kept as found, not written here:
# a release of more grant mappings than one unmap hypercall takes, its first call failing)
GM_MAP, GM_RELEASE, GM_RESET, GM_INVALIDATE, GM_FINI, GM_INIT, GM_GRANT, GM_BURST = range(8)
GM_W, GM_RING = 4, 8


def gm_map(guest, kind, n, off=0, length=16, flags=0, fate=0, burst=None):
    """kind 0: guest frame n (of 600 from 1 GiB), 1: grant n, 2: raw address n, 3: with bit 63.
    length: an int (u8 or u32), "page" (to the page end) or "over" (one past it)."""
    lmode = {"page": 2, "over": 3}.get(length, 0 if isinstance(length, int) and length < 256 else 1)
    mode = kind | flags | lmode << 4
    out = struct.pack("<BBBB", GM_BURST if burst else GM_MAP, guest, fate, mode)
    if burst:
        out += struct.pack("<H", burst)
    out += struct.pack("<HH", n, off) if kind < 2 else struct.pack("<Q", n)
    if lmode == 0:
        out += struct.pack("<B", length)
    elif lmode == 1:
        out += struct.pack("<I", length)
    return out


def gm(op, guest=0, fate=0):
    return struct.pack("<BBB", op, guest, fate)


def gm_grant(guest, ref, state):
    return struct.pack("<BBBB", GM_GRANT, guest, ref, state)


# Rings in grants 0..2 (the used ring written), a request's buffers in 40..43, released.
ring = gm_map(0, 1, 0, 0, 16, GM_RING) + gm_map(0, 1, 1, 2, 2, GM_RING) + gm_map(0, 1, 2, 2, 2, GM_RING | GM_W)
req = gm_map(0, 1, 40, 0, 16) + gm_map(0, 1, 41, 0xF00, "page") + gm_map(0, 1, 42, 0, 0x100) + gm_map(0, 1, 43, 0, 1, GM_W)
seed("gmem", "grant_requests", struct.pack("<H", 3) + ring + req + gm(GM_RELEASE) + ring + req +
     gm(GM_RELEASE) + gm(GM_RESET) + ring)
# Requests in flight at once (guest byte bits 1-3; NONE: no hold): a page in two of them, mapped
# again writable for the second (41, 60), completed out of order; a page mapped for nobody; a
# request left in flight over a reset.
A, B, C, NONE = 0 << 1, 1 << 1, 2 << 1, 7 << 1
seed("gmem", "requests_in_flight", struct.pack("<H", 3) + ring +
     gm_map(A, 1, 40, 0, 16) + gm_map(A, 1, 41, 0, "page") + gm_map(B, 1, 50, 0, 16) +
     gm_map(B, 1, 41, 0x10, 16, GM_W) + gm_map(C, 1, 60, 0, 16) + gm_map(B, 1, 60, 0, 16, GM_W) +
     gm(GM_RELEASE, B) + gm_map(A, 1, 41, 0, 8, GM_W) + gm(GM_RELEASE, C) + gm(GM_RELEASE, A) +
     gm_map(A, 1, 40, 0, 16) + gm_map(NONE, 1, 70, 0, 16) + gm(GM_RELEASE, NONE) + gm(GM_RESET) +
     gm_map(B, 1, 42, 0, 8) + gm(GM_RELEASE, A) + gm(GM_RELEASE, B))
seed("gmem", "foreign_cache", struct.pack("<H", 3) + gm_map(0, 0, 1, 0x10, 16, GM_RING) +
     gm_map(0, 0, 1, 0x20, 8) + gm_map(0, 0, 2, 0, "page", GM_W) + gm_map(1, 0, 1, 0, 4) +
     gm(GM_RELEASE) + gm(GM_RESET) + gm(GM_INVALIDATE) + gm_map(0, 0, 1, 0, 4))
seed("gmem", "eviction", struct.pack("<H", 3) + gm_map(0, 0, 0, 0, 64, burst=300) +
     gm_map(0, 1, 0, 0, 64, GM_RING, burst=300) + gm_map(0, 0, 100, 0, 8, GM_W, burst=100) +
     gm(GM_RELEASE) + gm(GM_RESET))
seed("gmem", "read_only_grants", struct.pack("<H", 3) + gm_map(0, 1, 7, 0, 4, GM_RING) +
     gm_map(0, 1, 7, 0x40, 4, GM_RING | GM_W) + gm_grant(0, 9, 1) + gm_map(0, 1, 9, 0, 4) +
     gm_map(0, 1, 9, 0, 4, GM_W) + gm_grant(0, 10, 2) + gm_map(0, 1, 10, 0, 4) + gm(GM_RELEASE))
seed("gmem", "refusals", struct.pack("<H", 3) + gm_map(0, 2, 0x0001000040000000) +
     gm_map(0, 3, 0x8000100000000000) + gm_map(0, 0, 3, 0, 0) + gm_map(0, 0, 3, 0x10, "over") +
     gm_map(0, 1, 3, 0xFFF, 2) + gm_map(0, 0, 0xFF, 0, 4) + gm(GM_FINI) + gm_map(0, 0, 3, 0, 4) +
     b"".join(gm_map(1, 2, 0x7FFF000000000000 >> s) for s in range(20)))
seed("gmem", "xen_failures", struct.pack("<H", 3) + gm_map(0, 1, 5, fate=0x12) +
     gm_map(0, 0, 5, fate=0x33) + gm_map(0, 1, 6) + gm_map(0, 1, 7) + gm(GM_RELEASE, 0, 0x18) +
     gm_map(0, 1, 8, flags=GM_RING) + gm_map(0, 1, 9, flags=GM_RING) + gm(GM_RESET, 0, 0x0C) +
     gm_map(0, 0, 10) + gm(GM_INVALIDATE, 0, 0x08) + gm_map(0, 0, 0, 0, 8, burst=40, fate=0x02))
seed("gmem", "fini_init", struct.pack("<H", 0xFFFF) + gm_map(0, 0, 1) + gm_map(1, 1, 1) +
     gm(GM_FINI, 0) + gm(GM_INIT, 0, 0x80) + gm_map(0, 0, 1) + gm(GM_INIT, 0) + gm_map(0, 0, 1) +
     gm(GM_INIT, 1) + gm_map(1, 1, 1, 0, 4, GM_RING))


# ---- mmc: a CSD, host flags, the start() that fails, then one stream that the fake host and
# the script read in turn; see fuzz_mmc.c ------------------------------------------------------
# (corpus/mmc/regress-* are the inputs of the fuzzer's first findings, kept as they were found,
# not written here: addresses past 32 bits wrapping, a card write-protected at a re-init, a
# changed card served through a second disk)
MMC_DONE, MMC_AGAIN, MMC_WAIT, MMC_TIMEOUT, MMC_CRC, MMC_EIO = 0, 3, 4, 5, 6, 7
MMC_ACT_END, MMC_ACT_SUBMIT, MMC_ACT_POLL, MMC_ACT_DRAIN, MMC_ACT_READ = 0, 1, 4, 6, 7
MMC_READ, MMC_WRITE, MMC_FLUSH, MMC_DISCARD, MMC_WRITE_ZEROES, MMC_NO_OP = range(6)
MMC_DISK2 = 0x80
R1_TRAN, R1_PRG = 0x900, 0xE00  # tran and ready; programming


def mmc_head(csd=(0, 0, 0, 0), no_high_speed=False, start_fail=0):
    return struct.pack("<4IBH", *csd, int(no_high_speed), start_fail)


def mmc_poll(outcome=MMC_DONE, resp=None, data=b"", chunk=0, jump=False):
    """One poll: how the command goes on (chunk: -EAGAIN moves 4**chunk blocks; jump: 300 ms
    pass), the response words if not the model card's, a short read's bytes if not its."""
    b = outcome | chunk << 5 | (0x80 if jump else 0)
    b |= (0x08 if resp is not None else 0) | (0x10 if data else 0)
    return bytes([b]) + b"".join(struct.pack("<I", w) for w in resp or ()) + data


D = mmc_poll()  # done, as the model SDHC card answers
MMC_TIMED_OUT = mmc_poll(MMC_TIMEOUT)


def mmc_init(config=0, cmd8=D, acmd41=D, csd=D, scr=D, acmd6=True, switch=True, cmd16=False):
    """Host init's config byte, then a poll per command of mmc_card_init."""
    out = bytes([config]) + D + cmd8 + D + acmd41 + D + D + csd + D  # CMD0 8 55 41 2 3 9 7
    out += D + scr + (D + D if acmd6 else b"")  # CMD55, ACMD51, CMD55, ACMD6
    return out + (D + D if switch else b"") + (D if cmd16 else b"")  # CMD6 twice, CMD16


def mmc_req(op, sector, count, disk2=False, from_end=False, gone_at=None):
    """A request: a u64 sector (or a u8 back from the disk's end) and a u32 count; gone_at: its
    buffer is gone from that byte on."""
    b = op | (1 if from_end else 3) << 3 | 3 << 5 | (0x80 if gone_at is not None else 0)
    out = bytes([MMC_ACT_SUBMIT | (MMC_DISK2 if disk2 else 0), b])
    out += struct.pack("<B" if from_end else "<Q", sector) + struct.pack("<I", count)
    return out + (struct.pack("<H", gone_at) if gone_at is not None else b"")


def mmc_drain(*polls):
    return bytes([MMC_ACT_DRAIN]) + b"".join(polls)


def mmc_startup_read(block, count, *polls):
    return bytes([MMC_ACT_READ, 2 | count << 2]) + struct.pack("<Q", block) + b"".join(polls)


MMC_WHOLE = b"\x00"  # layout: one disk over the whole card
MMC_END = bytes([MMC_ACT_END])
MMC_SDHC = mmc_head() + mmc_init()  # the model card (128 MiB), high speed on 4 bits

seed("mmc", "sdhc_requests", MMC_SDHC + MMC_WHOLE +
     mmc_req(MMC_READ, 5, 8) + mmc_drain(D) +
     mmc_req(MMC_WRITE, 100, 1) + mmc_drain(D, D) +
     # A multi-block write that moves its data in steps, then programs for a while.
     mmc_req(MMC_WRITE, 200, 20) + mmc_drain(mmc_poll(MMC_AGAIN, chunk=1), mmc_poll(MMC_WAIT),
                                             D, mmc_poll(resp=[R1_PRG]), D) +
     mmc_req(MMC_DISCARD, 10, 4) + mmc_drain(D, D, D) +
     mmc_req(MMC_FLUSH, 0, 0) + mmc_req(MMC_WRITE_ZEROES, 0, 1) + mmc_req(MMC_NO_OP, 0, 1) +
     mmc_req(MMC_READ, 2**64 - 1, 2) + mmc_req(MMC_READ, 0, 257) + mmc_req(MMC_READ, 0, 1, from_end=True) +
     mmc_drain(D) + mmc_startup_read(0, 2, D, D) + mmc_startup_read(262143, 2) + MMC_END)
# Two ranges of the card (1000+4096 and the rest, read-only): requests to both take turns.
seed("mmc", "sdhc_two_disks", MMC_SDHC + bytes([0x16]) + struct.pack("<QQ", 1000, 4095) +
     mmc_req(MMC_READ, 0, 16) + mmc_req(MMC_WRITE, 8, 8, disk2=True) +
     mmc_req(MMC_WRITE, 4095, 1) + mmc_req(MMC_READ, 4096, 1) + mmc_req(MMC_READ, 0, 1, disk2=True) +
     bytes([MMC_ACT_POLL, MMC_ACT_POLL | MMC_DISK2]) + mmc_drain(mmc_poll(MMC_WAIT), D, D, D, D) + MMC_END)
# An SD 1.x card: no answer to CMD8, no CCS, a version 1.0 CSD (8192 blocks), SD_SPEC 0 with 4
# bits, on a host without high speed: byte addresses after CMD16.
csd_v1 = (0x0A400000, 0xC0017F80, 0x5F59007F, 0x00260032)
seed("mmc", "sdsc_v1", mmc_head(no_high_speed=True) +
     mmc_init(cmd8=MMC_TIMED_OUT, acmd41=mmc_poll(resp=[0x80FF8000]), csd=mmc_poll(resp=csd_v1),
              scr=mmc_poll(data=bytes([0x00, 0x05, 0, 0, 0, 0, 0, 0])), switch=False, cmd16=True) +
     MMC_WHOLE + mmc_req(MMC_READ, 3, 2) + mmc_drain(D) + mmc_req(MMC_WRITE, 7, 1) + mmc_drain(D, D) +
     mmc_req(MMC_DISCARD, 8190, 2) + mmc_drain(D, D, D) + mmc_startup_read(8191, 1, D) + MMC_END)
seed("mmc", "acmd41_fails", mmc_head() + b"\x00" + D + D + D + MMC_TIMED_OUT)
seed("mmc", "acmd41_busy", mmc_head() + b"\x00" + D + D +
     (D + mmc_poll(resp=[0x00FF8000], jump=True)) * 5)
seed("mmc", "cmd8_bad_echo", mmc_head() + b"\x00" + D + mmc_poll(resp=[0x1AB]))
seed("mmc", "no_card", mmc_head() + b"\x02")
seed("mmc", "set_ios_fails", mmc_head() + b"\x18" + D * 10)
seed("mmc", "csd_unknown", mmc_head() + mmc_init(csd=mmc_poll(resp=[0, 0, 0, 0xC0000000])))
# A card whose switch status says it has no high speed: it stays at 25 MHz.
seed("mmc", "no_high_speed_switch", mmc_head() + mmc_init(switch=False) +
     mmc_poll(data=bytes(64)) + MMC_WHOLE + MMC_END)
seed("mmc", "write_protected", mmc_head() + mmc_init(config=0x04) + MMC_WHOLE +
     mmc_req(MMC_WRITE, 0, 1) + mmc_req(MMC_DISCARD, 0, 8) + mmc_req(MMC_READ, 0, 1) + mmc_drain(D) + MMC_END)
# A read that breaks off (CRC error after 4 blocks: CMD12), a write stuck programming past
# 500 ms, then the card initialised again; later the card is gone and the disk broken.
seed("mmc", "errors_and_reinit", MMC_SDHC + MMC_WHOLE +
     mmc_req(MMC_READ, 64, 16) + mmc_drain(mmc_poll(MMC_AGAIN, chunk=1), mmc_poll(MMC_CRC), D) +
     mmc_req(MMC_WRITE, 300, 1) + mmc_drain(D, mmc_poll(resp=[R1_PRG], jump=True),
                                            mmc_poll(resp=[R1_PRG], jump=True)) +
     mmc_req(MMC_READ, 4, 1) + mmc_drain(mmc_init(), D) +
     mmc_req(MMC_READ, 4, 1) + mmc_drain(mmc_poll(MMC_EIO)) +
     mmc_req(MMC_WRITE, 4, 2) + mmc_drain(D, mmc_poll(resp=[0x80000900])) +
     mmc_req(MMC_READ, 4, 1) + mmc_drain(b"\x02") + mmc_req(MMC_READ, 5, 1) + mmc_drain() + MMC_END)
seed("mmc", "buffer_gone", MMC_SDHC + MMC_WHOLE +
     mmc_req(MMC_READ, 0, 2, gone_at=512) + mmc_drain(D, D) +
     mmc_req(MMC_WRITE, 0, 4, gone_at=1000) + mmc_drain(D, D) + MMC_END)
# mmc_card_init starts 14 commands: the 16th, the write's CMD13, is refused.
seed("mmc", "start_fails", mmc_head(start_fail=16) + mmc_init() + MMC_WHOLE +
     mmc_req(MMC_WRITE, 1, 1) + mmc_drain(D) + mmc_req(MMC_READ, 1, 1) + mmc_drain(D) + MMC_END)
# A write still programming at its first CMD13; the second, at once, is refused.
seed("mmc", "status_restart_refused", mmc_head(start_fail=17) + mmc_init() + MMC_WHOLE +
     mmc_req(MMC_WRITE, 9, 1) + mmc_drain(D, mmc_poll(resp=[R1_PRG])) + MMC_END)
# A start-up read while a disk's command runs: mmcdisk_quiesce first ends that disk's requests.
seed("mmc", "startup_read_mid_request", MMC_SDHC + MMC_WHOLE + mmc_req(MMC_READ, 16, 8) +
     mmc_req(MMC_WRITE, 24, 2) + bytes([MMC_ACT_POLL]) + mmc_poll(MMC_WAIT) +
     mmc_startup_read(0, 1, mmc_poll(MMC_WAIT), D, D, D, D) + MMC_END)
