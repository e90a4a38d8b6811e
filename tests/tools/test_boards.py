"""Host tests of the example board descriptions (tools/boards/*.board) against tools/mkboot.py:
each is read and planned with stand-ins of realistic sizes for the files it names, the load map
fits and overlaps nothing (neither itself nor the addresses the board's U-Boot uses), and the
layout B boards' vdisk.disk= words are spelt as vdisk reads them and agree with the guest's
partial device tree (tools/boards/guest-virtio.dts)."""

import configparser
import glob
import importlib.util
import os
import re
import shutil
import subprocess
import tempfile
import unittest

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BOARDS = os.path.join(TOP, "tools", "boards")
spec = importlib.util.spec_from_file_location("mkboot", os.path.join(TOP, "tools", "mkboot.py"))
mkboot = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mkboot)

MIB = 1 << 20
# The files the boards name (what tools/boards/stage.sh puts beside them), at about the sizes of
# the real ones: Xen 4.17 ~1 MB, Debian's arm64 Image ~33 MB, vdisk.img ~160 KB, the --blk fio
# guest's initramfs (zstd) ~30 MB, layout A's dom0 initramfs (the rig's base.cpio ~10 MB plus
# vdisk, the guest's kernel and initramfs) ~75 MB, device trees ~50 KB.
SIZES = {
    "xen": 1015816,
    "xen-flask": 1015816,
    "Image": 33 * MIB,
    "vdisk.img": 160 * 1024,
    "guest.cpio": 30 * MIB,
    "dom0.cpio": 75 * MIB,
    "guest-virtio.dtb": 50 * 1024,
    "zcu102.dtb": 50 * 1024,
}
# Address ranges the board's U-Boot uses or may use, which the images must leave alone
# [start, end), and the end no image may pass.
CLEAR = {
    # include/configs/rpi.h: kernel_addr_r 0x80000 .. ramdisk_addr_r 0x2700000 (and the
    # firmware's spin tables at 0); the low 1 GiB: the Pi 4's DMA limit, and below the
    # firmware's first memory bank
    "rpi4": ([(0x0, 0x2800000)], 0x40000000),
    # include/configs/xilinx_zynqmp.h: kernel_addr_r 0x18000000 + kernel_size_r 0x10000000
    # (scriptaddr 0x20000000 inside), kernel_comp_addr_r 0x30000000 + 0x3c00000, fdt_addr_r
    # 0x40000000 + fdt_size_r 0x400000, ramdisk_addr_r 0x2100000, older scriptaddr 0x2000000
    "zcu102": ([(0x2000000, 0x2200000), (0x10000000, 0x28000000), (0x30000000, 0x33c00000),
                (0x40000000, 0x40400000)], 0x80000000),
    "qemu-virt": ([], 0xc0000000),
}
FILE_KEYS = {"board": ("device_tree",), "xen": ("image",), "dom0": ("kernel", "ramdisk"),
             "domU": ("kernel", "ramdisk", "device_tree")}
# boot/backend_check.c backend_parse_disk: KEY=VALUE words joined by commas, target= last
DISK_KEYS = {"domain", "base", "irq", "access", "target"}


def board_files():
    return sorted(glob.glob(os.path.join(BOARDS, "*.board")))


def read_ini(path):
    """The description as tools/mkboot.py reads it (same configparser settings)."""
    cp = configparser.ConfigParser(interpolation=None, comment_prefixes=("#",),
                                   inline_comment_prefixes=None, strict=True)
    cp.optionxform = str
    with open(path, encoding="utf-8") as f:
        cp.read_file(f)
    return cp


def named_files(cp):
    """Every file name the description gives."""
    names = []
    for sec in cp.sections():
        for key in FILE_KEYS.get("domU" if sec.startswith("domU ") else sec, ()):
            value = cp[sec].get(key, "").strip()
            if value and value != "firmware":
                names.append(value)
    return names


def parse_disk(word):
    """vdisk.disk=VALUE's keys, as backend_parse_disk reads them, or an AssertionError."""
    fields, rest = {}, word
    while rest:
        if rest.startswith("target="):
            fields["target"] = rest[len("target="):]
            break
        item, _, rest = rest.partition(",")
        key, eq, value = item.partition("=")
        assert eq, f"'{item}' is not KEY=VALUE"
        assert key in DISK_KEYS, f"'{key}' is not a key of vdisk.disk ({', '.join(sorted(DISK_KEYS))})"
        assert key not in fields, f"'{key}' twice"
        fields[key] = value
    for key in ("domain", "base", "irq", "target"):
        assert key in fields, f"no {key}= in '{word}'"
    assert re.fullmatch(r"[1-9][0-9]*", fields["domain"]) and int(fields["domain"]) <= 32751, \
        f"domain={fields['domain']}: a guest's domain id, 1 to 32751"
    assert re.fullmatch(r"0x[0-9a-fA-F]+", fields["base"]), f"base={fields['base']}: hex with 0x"
    base = int(fields["base"], 16)
    assert base and base % 0x200 == 0, f"base={fields['base']}: not a 0x200-aligned window"
    assert fields["irq"].isdigit() and 32 <= int(fields["irq"]) <= 1019, \
        f"irq={fields['irq']}: not an SPI (32 to 1019)"
    assert fields.get("access", "rw") in ("ro", "rw"), f"access={fields['access']}: ro or rw"
    assert re.fullmatch(r"ram:[0-9]+[KMG]?(,latency=[0-9]+(ns|us|ms|s))?|mmc:[0-9]+(:[0-9]+)?",
                        fields["target"]), f"target={fields['target']}: ram:SIZE or mmc:CARD[:PART]"
    return int(fields["domain"]), base, int(fields["irq"]), fields


def guest_windows(dts_path):
    """[(base, SPI)] of the virtio-mmio nodes of a partial device tree, in tree order."""
    with open(dts_path, encoding="utf-8") as f:
        text = re.sub(r"/\*.*?\*/", "", f.read(), flags=re.S)
    out = []
    for m in re.finditer(r"virtio@([0-9a-f]+)\s*\{(.*?)\};", text, re.S):
        body = m.group(2)
        assert '"virtio,mmio"' in body, f"virtio@{m.group(1)}: not virtio,mmio"
        reg = re.search(r"reg\s*=\s*<0x0\s+(0x[0-9a-f]+)\s+0x0\s+0x200>", body)
        irq = re.search(r"interrupts\s*=\s*<0\s+([0-9]+)\s+[0-9]+>", body)
        assert reg and irq, f"virtio@{m.group(1)}: no reg <0x0 BASE 0x0 0x200> or SPI interrupts"
        assert int(reg.group(1), 16) == int(m.group(1), 16), f"virtio@{m.group(1)}: reg differs"
        out.append((int(reg.group(1), 16), 32 + int(irq.group(1))))
    return out


class BoardsTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="boards-test.")

    def tearDown(self):
        shutil.rmtree(self.dir)

    def stage(self, board_path):
        """The board copied into a fresh directory with stand-ins for its files."""
        sub = tempfile.mkdtemp(dir=self.dir)
        for name in named_files(read_ini(board_path)):
            self.assertIn(name, SIZES, f"{board_path} names '{name}', which tools/boards/stage.sh "
                          "does not make")
            with open(os.path.join(sub, name), "wb") as f:
                f.truncate(SIZES[name])  # sparse: only the size matters to the plan
        path = os.path.join(sub, os.path.basename(board_path))
        shutil.copy(board_path, path)
        return path

    def test_there_are_the_boards(self):
        names = {os.path.basename(p) for p in board_files()}
        self.assertLessEqual({"qemu-virt-b.board", "rpi4-a.board", "rpi4-b.board",
                              "zcu102-a.board", "zcu102-b.board"}, names)

    def test_each_board_plans_and_fits(self):
        for path in board_files():
            with self.subTest(board=os.path.basename(path)):
                board = mkboot.Board(self.stage(path))
                items = mkboot.plan(board)
                self.assertEqual([i[0] for i in items][:3], ["xen", "fdt", "dom0"])
                top = board.ram_start + board.ram_size - mkboot.UBOOT_TOP_RESERVE
                spans = [(addr, addr + size, role) for role, _, _, addr, size in items]
                for (a0, a1, r), (b0, _, _) in zip(spans, spans[1:]):
                    self.assertEqual(b0 % mkboot.ALIGN, 0, r)
                    self.assertLessEqual(a1, b0, f"{r} overlaps the next image")
                self.assertGreaterEqual(spans[0][0], board.ram_start)
                self.assertLessEqual(spans[-1][1], top)
                kind = next(k for k in CLEAR if board.name.startswith(k))
                keep_clear, limit = CLEAR[kind]
                self.assertLessEqual(spans[-1][1], limit, f"{board.name}: images end past {limit:#x}")
                for c0, c1 in keep_clear:
                    for s0, s1, role in spans:
                        self.assertFalse(s0 < c1 and c0 < s1, f"{board.name}: {role} at "
                                         f"{s0:#x}-{s1:#x} is on U-Boot's {c0:#x}-{c1:#x}")
                # the disk: the images, mkboot's 8 MiB of slack, and on a real board room for
                # its boot firmware beside them (tools/mkboot.py make_disk's own check)
                payload = sum(size for _, path, _, _, size in items if path)
                if not board.name.startswith("qemu-"):
                    self.assertIsNotNone(board.disk_size, f"{board.name}: no [disk] size")
                    self.assertGreaterEqual(board.disk_size, payload + 8 * MIB + 32 * MIB)
                # and the script can be written from it
                script = mkboot.script(board, items)
                self.assertIn(f"booti {items[0][3]:#x} - {items[1][3]:#x}", script)

    def test_untested_boards_say_so(self):
        for path in board_files():
            with open(path, encoding="utf-8") as f:
                head = f.readline()
            with self.subTest(board=os.path.basename(path)):
                if os.path.basename(path).startswith("qemu-"):
                    self.assertNotIn("NOT TESTED", head)
                else:
                    self.assertTrue(head.startswith("# NOT TESTED ON HARDWARE"), head)

    def test_layouts(self):
        """Layout A: Linux dom0 from an initramfs, FLASK Xen; layout B: vdisk is dom0."""
        for path in board_files():
            cp = read_ini(path)
            xen_args = cp["xen"].get("bootargs", "")
            with self.subTest(board=os.path.basename(path)):
                if path.endswith("-a.board"):
                    self.assertEqual(cp["dom0"]["kernel"], "Image")
                    self.assertEqual(cp["dom0"]["ramdisk"], "dom0.cpio")
                    self.assertEqual(cp["xen"]["image"], "xen-flask")
                    self.assertIn("xsm=flask flask=enforcing", xen_args)
                    self.assertFalse([s for s in cp.sections() if s.startswith("domU ")])
                else:
                    self.assertTrue(path.endswith("-b.board"), path)
                    self.assertEqual(cp["dom0"]["kernel"], "vdisk.img")
                    self.assertEqual(cp["xen"]["image"], "xen")
                    self.assertNotIn("xsm=", xen_args)
                self.assertRegex(xen_args, r"(^| )console=dtuart dtuart=\S+")
                self.assertRegex(xen_args, r"(^| )dom0_mem=[0-9]+[MG]( |$)")

    def test_vdisk_disks_of_layout_b(self):
        windows = guest_windows(os.path.join(BOARDS, "guest-virtio.dts"))
        self.assertEqual(windows, [(0x2000000, 33), (0x2000200, 34)])
        for path in board_files():
            if not path.endswith("-b.board"):
                continue
            cp = read_ini(path)
            domus = [s for s in cp.sections() if s.startswith("domU ")]
            words = [w[len("vdisk.disk="):] for w in cp["dom0"]["bootargs"].split()
                     if w.startswith("vdisk.disk=")]
            with self.subTest(board=os.path.basename(path)):
                self.assertEqual(len(domus), 1)
                self.assertEqual(cp[domus[0]]["device_tree"], "guest-virtio.dtb")
                disks = [parse_disk(w) for w in words]
                # domain 1 is the first dom0less domain; one window of the tree per disk
                self.assertEqual([d[0] for d in disks], [1] * len(windows))
                self.assertEqual([(d[1], d[2]) for d in disks], windows)
                self.assertRegex(cp["dom0"]["bootargs"], r"(^| )latency_period=[1-9][0-9]*( |$)")

    def test_parse_disk_refuses_what_vdisk_refuses(self):
        good = "domain=1,base=0x2000200,irq=34,access=ro,target=mmc:0:2"
        self.assertEqual(parse_disk(good)[:3], (1, 0x2000200, 34))
        self.assertEqual(parse_disk("domain=1,base=0x2000000,irq=33,target=ram:16M,latency=5ms")[3]
                         ["target"], "ram:16M,latency=5ms")
        for bad in ("domain=1,base=0x2000000,irq=3,target=ram:1M",  # not an SPI
                    "domain=1,base=0x2000100,irq=33,target=ram:1M",  # not a window
                    "domain=0,base=0x2000000,irq=33,target=ram:1M",  # dom0
                    "domain=1,base=2000000,irq=33,target=ram:1M",  # decimal
                    "domain=1,irq=33,target=ram:1M",  # no base
                    "domain=1,base=0x2000000,irq=33,mode=r,target=ram:1M",  # xenstore's name
                    "domain=1,base=0x2000000,irq=33,access=r,target=ram:1M",
                    "domain=1,base=0x2000000,irq=33,target=disk:0"):
            with self.assertRaises(AssertionError, msg=bad):
                parse_disk(bad)

    @unittest.skipUnless(shutil.which("dtc"), "dtc not installed (device-tree-compiler)")
    def test_guest_tree_compiles(self):
        out = os.path.join(self.dir, "guest-virtio.dtb")
        subprocess.run(["dtc", "-q", "-I", "dts", "-O", "dtb", "-o", out,
                        os.path.join(BOARDS, "guest-virtio.dts")], check=True)
        self.assertGreater(os.path.getsize(out), 0)
        self.assertLess(os.path.getsize(out), SIZES["guest-virtio.dtb"])

    def test_stage_makes_every_named_file(self):
        with open(os.path.join(BOARDS, "stage.sh"), encoding="utf-8") as f:
            stage = f.read()
        for name in SIZES:
            self.assertIn(f"/{name}", stage, f"tools/boards/stage.sh does not make {name}")


if __name__ == "__main__":
    unittest.main()
