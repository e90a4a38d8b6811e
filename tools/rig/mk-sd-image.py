#!/usr/bin/env python3
"""The SD card image of the rig's sd scenario (tests/rig/sd.sh), and its check afterwards.

  mk-sd-image.py make IMAGE     64 MiB: every byte a known function of its offset, then a GPT
                                (protective MBR, primary and backup headers and entries) with
                                four partitions: p1 1-5 MiB, p2 5-13 MiB, p3 13-21 MiB, p4 21-29 MiB
                                (29-63 MiB: in no partition)
  mk-sd-image.py check-p2 IMAGE after layout B's card run (tests/rig/layout-b.sh): p2 holds
                                what its guest wrote, every other byte is as `make` wrote it
  mk-sd-image.py check IMAGE    after the rig: p2 and p3 hold what the guests wrote
                                (tests/rig/guest/sd.sh: `yes vdisk-sd-pN | head -c SIZE`),
                                p4 is a Linux guest's (fio, ext4) with, 4 MiB in, the block
                                written just before QEMU was killed (sd-ack.sh), and every
                                other byte, p1 (the hostile guest's) included, is as `make`
                                wrote it; prints RIG-TEST lines
"""
import os
import sys
import zlib

MIB = 1 << 20
SIZE = 64 * MIB
SECTOR = 512
PARTS = [(1 * MIB, 5 * MIB), (5 * MIB, 13 * MIB), (13 * MIB, 21 * MIB), (21 * MIB, 29 * MIB)]
WRITTEN = {2: b"vdisk-sd-p2\n", 3: b"vdisk-sd-p3\n"}
TYPE_LINUX = bytes.fromhex("af3dc60f838472478e793d69d8477de4")  # 0FC63DAF-8483-4772-8E79-3D69D8477DE4


def background(start, end):
    """Bytes start..end of the image before any guest wrote: each 16-byte line names its offset."""
    first = start - start % 16
    text = b"".join(b"sd@%012x\n\x00\x00" % off for off in range(first, end + 16, 16))
    return text[start - first:start - first + end - start]


def gpt(header_lba, alt_lba, entries_lba, entries):
    h = bytearray(92)
    h[0:8] = b"EFI PART"
    h[8:12] = (0x10000).to_bytes(4, "little")
    h[12:16] = (92).to_bytes(4, "little")
    h[24:32] = header_lba.to_bytes(8, "little")
    h[32:40] = alt_lba.to_bytes(8, "little")
    h[40:48] = (34).to_bytes(8, "little")
    h[48:56] = (SIZE // SECTOR - 34).to_bytes(8, "little")
    h[56:72] = bytes(range(16))  # disk GUID
    h[72:80] = entries_lba.to_bytes(8, "little")
    h[80:84] = (128).to_bytes(4, "little")
    h[84:88] = (128).to_bytes(4, "little")
    h[88:92] = zlib.crc32(entries).to_bytes(4, "little")
    h[16:20] = zlib.crc32(bytes(h)).to_bytes(4, "little")
    return bytes(h) + bytes(SECTOR - 92)


def make(path):
    img = bytearray(background(0, SIZE))
    entries = bytearray(128 * 128)
    for i, (start, end) in enumerate(PARTS):
        e = entries[128 * i:128 * (i + 1)]
        e[0:16] = TYPE_LINUX
        e[16:32] = bytes([i + 1] * 16)
        e[32:40] = (start // SECTOR).to_bytes(8, "little")
        e[40:48] = (end // SECTOR - 1).to_bytes(8, "little")
        e[56:56 + 2 * len("vdisk%d" % (i + 1))] = ("vdisk%d" % (i + 1)).encode("utf-16-le")
        entries[128 * i:128 * (i + 1)] = e
    last = SIZE // SECTOR - 1
    mbr = bytearray(SECTOR)
    mbr[446 + 4] = 0xEE
    mbr[446 + 8:446 + 12] = (1).to_bytes(4, "little")
    mbr[446 + 12:446 + 16] = min(last, 0xFFFFFFFF).to_bytes(4, "little")
    mbr[510:512] = b"\x55\xaa"
    img[0:SECTOR] = mbr
    img[SECTOR:2 * SECTOR] = gpt(1, last, 2, bytes(entries))
    img[2 * SECTOR:34 * SECTOR] = entries
    img[(last - 32) * SECTOR:last * SECTOR] = entries
    img[last * SECTOR:SIZE] = gpt(last, 1, last - 32, bytes(entries))
    with open(path, "wb") as f:
        f.write(img)


def check(path, only_p2=False):
    with open(path, "rb") as f:
        img = f.read()
    fails = 0

    def verdict(name, ok, why):
        nonlocal fails
        if ok:
            print("RIG-TEST: PASS %s" % name)
        else:
            fails += 1
            print("RIG-TEST: FAIL %s: %s" % (name, why))

    verdict("image_size", len(img) == SIZE, "%d bytes" % len(img))
    # The image as `make` wrote it, to compare everything outside p2 and p3 with.
    tmp = path + ".orig"
    make(tmp)
    with open(tmp, "rb") as f:
        made = f.read()
    os.remove(tmp)
    for n, pattern in WRITTEN.items():
        if only_p2 and n != 2:
            continue
        start, end = PARTS[n - 1]
        want = (pattern * ((end - start) // len(pattern) + 1))[:end - start]
        got = img[start:end]
        diff = next((i for i in range(0, end - start, 4096) if got[i:i + 4096] != want[i:i + 4096]), None)
        verdict("image_p%d_holds_the_guest_data" % n, diff is None,
                "first difference in the 4 KiB block at partition offset %s" % diff)
    if only_p2:
        rest = img[:PARTS[1][0]] + img[PARTS[1][1]:] == made[:PARTS[1][0]] + made[PARTS[1][1]:]
        verdict("image_rest_unchanged", rest, "a byte outside p2 changed")
        return fails
    # The block the last guest wrote just before QEMU was killed (tests/rig/guest/sd-ack.sh).
    at = PARTS[3][0] + 4 * MIB
    verdict("image_acked_write_survived_the_kill", img[at:at + 4096] == (b"vdisk-sd-acked\n" * 274)[:4096],
            "4 KiB at %#x: %r..." % (at, img[at:at + 32]))
    outside = [(0, PARTS[1][0]), (PARTS[2][1], PARTS[3][0]), (PARTS[3][1], SIZE)]
    bad = [(a, b) for a, b in outside if img[a:b] != made[a:b]]
    if bad:
        a, b = bad[0]
        first = next(i for i in range(a, b) if img[i] != made[i])
        verdict("image_rest_unchanged", False, "byte %#x changed (p2-p3 are %#x-%#x, p4 %#x-%#x)" %
                (first, PARTS[1][0], PARTS[2][1], PARTS[3][0], PARTS[3][1]))
    else:
        verdict("image_rest_unchanged", True, "")
    return fails


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("make", "check", "check-p2"):
        sys.exit(__doc__)
    if sys.argv[1] == "make":
        make(sys.argv[2])
    else:
        check(sys.argv[2], only_p2=sys.argv[1] == "check-p2")
