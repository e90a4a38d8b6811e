"""Host tests of tools/mkboot.py: board descriptions, their errors, the script, the disk."""

import importlib.util
import os
import shutil
import struct
import subprocess
import tempfile
import unittest

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
spec = importlib.util.spec_from_file_location("mkboot", os.path.join(TOP, "tools", "mkboot.py"))
mkboot = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mkboot)

GOOD = """\
# a board
[board]
name = test-board
ram_start = 0x40000000
ram_size = 1G
[xen]
image = xen
bootargs = console=dtuart dom0_mem=512M
[dom0]
kernel = Image
ramdisk = initrd
bootargs = console=hvc0
"""


class BoardTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="mkboot-test.")
        for name, size in (("xen", 1000000), ("Image", 3 * mkboot.MIB + 5), ("initrd", 12345),
                           ("guest", 70000), ("guest.dtb", 900)):
            with open(os.path.join(self.dir, name), "wb") as f:
                f.write(bytes([len(name)]) * size)

    def tearDown(self):
        shutil.rmtree(self.dir)

    def board(self, text):
        path = os.path.join(self.dir, "b.board")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def error(self, text):
        with self.assertRaises(mkboot.BoardError) as cm:
            b = mkboot.Board(self.board(text))
            mkboot.plan(b)
        return str(cm.exception)

    def test_sizes(self):
        self.assertEqual(mkboot.parse_size("w", "k", "0x40000000"), 0x40000000)
        self.assertEqual(mkboot.parse_size("w", "k", "256M"), 256 << 20)
        self.assertEqual(mkboot.parse_size("w", "k", "2G"), 2 << 30)
        self.assertEqual(mkboot.parse_size("w", "k", " 17 "), 17)
        with self.assertRaisesRegex(mkboot.BoardError, "k = '12Q' is not a number"):
            mkboot.parse_size("w", "k", "12Q")

    def test_plan_places_images_in_order_2mib_aligned(self):
        items = mkboot.plan(mkboot.Board(self.board(GOOD)))
        self.assertEqual([i[0] for i in items], ["xen", "fdt", "dom0", "dom0-ramdisk"])
        addrs = [i[3] for i in items]
        self.assertEqual(addrs[0], 0x42000000)  # ram_start + 32 MiB by default
        for (_, _, _, a, size), b in zip(items, addrs[1:]):
            self.assertEqual(b % mkboot.ALIGN, 0)
            self.assertGreaterEqual(b, a + size)  # no overlap
        self.assertEqual(items[2][4], 3 * mkboot.MIB + 5)
        self.assertEqual(addrs[3], 0x42000000 + 2 * mkboot.MIB + 2 * mkboot.MIB + 4 * mkboot.MIB)

    def test_script_for_dom0(self):
        board = mkboot.Board(self.board(GOOD))
        s = mkboot.script(board, mkboot.plan(board))
        lines = s.splitlines()
        self.assertIn("fdt addr ${fdtcontroladdr} || setenv vb_fail 1", lines)
        self.assertIn("fdt move ${fdtcontroladdr} 0x42200000 0x100000 || setenv vb_fail 1", lines)
        self.assertIn('fdt set /chosen xen,xen-bootargs "console=dtuart dom0_mem=512M" '
                      "|| setenv vb_fail 1", lines)
        self.assertIn("fdt set /chosen/dom0 reg <0x0 0x42400000 0x0 0x${filesize}> "
                      "|| setenv vb_fail 1", lines)
        self.assertIn('fdt set /chosen xen,dom0-bootargs "console=hvc0" || setenv vb_fail 1', lines)
        self.assertIn('fdt set /chosen/dom0-ramdisk compatible "xen,linux-initrd" '
                      '"xen,multiboot-module" "multiboot,module" || setenv vb_fail 1', lines)
        # each image is loaded before the node naming its size (${filesize}) is written
        self.assertLess(s.index("0x42400000 dom0-kernel;"), s.index("/chosen/dom0 reg"))
        self.assertLess(s.index("0x42800000 dom0-ramdisk;"), s.index("/chosen/dom0-ramdisk reg"))
        # the failure check comes after every edit and before booti, booti is last but the echo
        self.assertLess(s.rindex("|| setenv vb_fail 1"), s.index('if test -n "${vb_fail}"'))
        self.assertEqual(lines[-2], "booti 0x42000000 - 0x42200000")
        self.assertNotIn("domU", s)
        # loads from where distro boot found the script, with mmc 0:1 when run by hand
        self.assertIn('if test -z "${devtype}"; then setenv devtype mmc;', s)

    def test_script_with_dtb_file_boot_device_and_domu(self):
        text = GOOD.replace("ram_size = 1G", "ram_size = 1G\ndevice_tree = guest.dtb\n"
                            "boot_device = mmc 1:2\nload_start = 0x48000000")
        text += ("[domU guest1]\nkernel = guest\ndevice_tree = guest.dtb\nmemory = 128M\n"
                 "cpus = 2\nbootargs = console=ttyAMA0\n")
        board = mkboot.Board(self.board(text))
        items = mkboot.plan(board)
        self.assertEqual([i[0] for i in items],
                         ["xen", "fdt", "dom0", "dom0-ramdisk", "guest1-kernel", "guest1-dtb"])
        s = mkboot.script(board, items)
        self.assertIn("setenv devtype mmc\nsetenv devnum 1\nsetenv distro_bootpart 2\n", s)
        self.assertIn("0x48200000 board.dtb; then", s)
        self.assertIn("fdt addr 0x48200000 || setenv vb_fail 1", s)
        self.assertNotIn("fdtcontroladdr", s)
        k = f"{items[4][3]:x}"
        self.assertIn('fdt set /chosen/domU-guest1 compatible "xen,domain"', s)
        self.assertIn("fdt set /chosen/domU-guest1 memory <0x0 0x20000>", s)  # KiB
        self.assertIn("fdt set /chosen/domU-guest1 cpus <2>", s)
        self.assertIn("fdt set /chosen/domU-guest1 vpl011 ||", s)
        self.assertIn(f'fdt set /chosen/domU-guest1/module@{k} compatible "multiboot,kernel" '
                      '"multiboot,module"', s)
        self.assertIn(f'fdt set /chosen/domU-guest1/module@{k} bootargs "console=ttyAMA0"', s)
        self.assertIn('"multiboot,device-tree" "multiboot,module"', s)

    def test_errors_name_key_and_value(self):
        cases = [
            (GOOD.replace("image = xen", "image = nope"), r"\[xen\] image = 'nope': no such file"),
            (GOOD.replace("image = xen\n", ""), r"\[xen\] image is required"),
            (GOOD.replace("ram_size = 1G", "ram_size = lots"), "ram_size = 'lots' is not a number"),
            (GOOD.replace("ram_size = 1G", "ram_size = 1G\nram_sise = 2G"),
             r"\[board\] ram_sise = '2G': unknown key"),
            (GOOD + "[domX a]\n", r"\[domX a\] is not a section"),
            (GOOD.replace("console=hvc0", 'console="hvc0"'), r"bootargs = 'console=\"hvc0\"'"),
            (GOOD.replace("console=hvc0", "console=$x"), r"bootargs = 'console=\$x'"),
            (GOOD.replace("ram_size = 1G", "ram_size = 64M"), r"ram_size = '64M', less 64 MiB"),
            (GOOD.replace("ram_size = 1G", "ram_size = 1G\nload_start = 0x42100000"),
             r"load_start = '0x42100000' is not 2 MiB aligned"),
            (GOOD.replace("ram_size = 1G", "ram_size = 1G\nload_start = 0x10000000"),
             r"load_start = '0x10000000' is outside RAM"),
            (GOOD.replace("name = test-board", "name = test board"), r"name = 'test board'"),
            (GOOD.replace("ram_size = 1G", "ram_size = 1G\nboot_device = sd0"),
             r"boot_device = 'sd0'"),
            (GOOD + "[domU g]\nkernel = guest\nmemory = 100K\n", r"\[domU g\] memory = '100K'"),
            (GOOD + "[domU g]\nkernel = guest\nmemory = 64M\nvpl011 = maybe\n",
             r"vpl011 = 'maybe': yes or no"),
            (GOOD + "[domU g]\nkernel = guest\nmemory = 64M\ncpus = 0\n", r"cpus = '0'"),
            (GOOD + "[domU g]\nmemory = 64M\n", r"\[domU g\] kernel is required"),
            (GOOD.replace("[dom0]", "[dom1]"), r"\[dom1\] is not a section"),
            (GOOD.replace("[xen]\n", ""), r"image = 'xen': unknown key"),
            (GOOD.replace("kernel = Image\n", "kernel = Image\nkernel = xen\n"),
             "option 'kernel' in section 'dom0' already exists"),
        ]
        for text, want in cases:
            with self.subTest(want=want):
                self.assertRegex(self.error(text), want)

    def test_missing_board_file(self):
        with self.assertRaisesRegex(mkboot.BoardError, "nope.board: No such file"):
            mkboot.Board(os.path.join(self.dir, "nope.board"))

    @unittest.skipUnless(shutil.which("mkimage") and shutil.which("mcopy"),
                         "u-boot-tools and mtools (tools/deps.sh)")
    def test_disk_image(self):
        out = os.path.join(self.dir, "out")
        self.assertEqual(mkboot.main(["mkboot", self.board(GOOD), out]), 0)
        img = os.path.join(out, "boot.img")
        self.assertEqual(os.path.getsize(img), 64 * mkboot.MIB)  # the smallest image
        with open(img, "rb") as f:
            mbr = f.read(512)
        self.assertEqual(mbr[510:512], b"\x55\xaa")
        boot, ptype, start, count = struct.unpack_from("<B3xB3xII", mbr, 446)
        self.assertEqual((boot, ptype, start, count), (0x80, 0x0C, 2048, 64 * 2048 - 2048))
        with open(os.path.join(out, "boot.scr"), "rb") as f:
            self.assertEqual(struct.unpack(">I", f.read(4))[0], 0x27051956)  # uImage magic
        env = dict(os.environ, MTOOLS_SKIP_CHECK="1")
        part = f"{img}@@{mkboot.PART_START}"
        for name, src in (("xen", "xen"), ("dom0-kernel", "Image"), ("dom0-ramdisk", "initrd"),
                          ("boot.cmd", "out/boot.cmd")):
            got = subprocess.run(["mtype", "-i", part, f"::{name}"], env=env,
                                 stdout=subprocess.PIPE, check=True).stdout
            with open(os.path.join(self.dir, src), "rb") as f:
                self.assertEqual(got, f.read(), name)
        ls = subprocess.run(["mdir", "-b", "-i", part, "::"], env=env, stdout=subprocess.PIPE,
                            text=True, check=True).stdout.split()
        self.assertEqual(sorted(os.path.basename(n) for n in ls),
                         ["boot.cmd", "boot.scr", "dom0-kernel", "dom0-ramdisk", "xen"])
        with open(os.path.join(out, "layout.txt"), encoding="utf-8") as f:
            self.assertTrue(f.readline().startswith("0x42000000    1000000 xen "))

    @unittest.skipUnless(shutil.which("mkimage") and shutil.which("mcopy"),
                         "u-boot-tools and mtools (tools/deps.sh)")
    def test_extra_files_go_to_the_partition_root(self):
        with open(os.path.join(self.dir, "config.txt"), "w", encoding="utf-8") as f:
            f.write("kernel=u-boot.bin\n")
        out = os.path.join(self.dir, "out")
        board = self.board(GOOD + "[disk]\nfiles = config.txt guest\n")
        self.assertEqual(mkboot.main(["mkboot", board, out]), 0)
        env = dict(os.environ, MTOOLS_SKIP_CHECK="1")
        part = f"{os.path.join(out, 'boot.img')}@@{mkboot.PART_START}"
        got = subprocess.run(["mtype", "-i", part, "::config.txt"], env=env,
                             stdout=subprocess.PIPE, check=True).stdout
        self.assertEqual(got, b"kernel=u-boot.bin\n")
        self.assertRegex(self.error(GOOD + "[disk]\nfiles = nope.bin\n"),
                         r"\[disk\] files: 'nope.bin': no such file")
        self.assertRegex(self.error(GOOD + "[disk]\nfiles = xen\n"),
                         r"\[disk\] files: 'xen': the partition already has a file named xen")

    def test_check_writes_nothing(self):
        out = os.path.join(self.dir, "out")
        self.assertEqual(mkboot.main(["mkboot", "--check", self.board(GOOD)]), 0)
        self.assertFalse(os.path.exists(out))
        self.assertEqual(mkboot.main(["mkboot", "--check", self.board(GOOD + "[bad]\n")]), 1)


if __name__ == "__main__":
    unittest.main()
