"""Host tests of tools/boot-timing.py: milestones off a console log, on one clock."""

import importlib.util
import os
import unittest

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
spec = importlib.util.spec_from_file_location("boot_timing",
                                              os.path.join(TOP, "tools", "boot-timing.py"))
bt = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bt)

# Counter at 62.5 MHz: Xen's first line at 2 s (0x7735940 ticks), its boot over at 2.5 s;
# vdisk's domain created at 2.1 s of the counter, its lines on its own clock.
LOG = """\
U-Boot 2023.01
(XEN) [0000000007735940] Xen version 4.17.5
(XEN) [0000000007735a00] Generic Timer IRQ: phys=30 hyp=26 virt=27 Freq: 62500 KHz
(XEN) [0000000009502f90] Freed 376kB init memory.
[    0.300000] vdisk 1234 starting: image at 0x48000000
[    0.300004] time: this domain's clock started at 2.100000 s of the system counter
[    0.320000] vdisk: ready
[    0.321000] vdisk: ready
[    1.000000] dom1/0: first read completed
[    1.500000] dom1/1: first read completed
"""


class BootTimingTest(unittest.TestCase):
    def test_milestones_in_ms_after_xen_start(self):
        rows = dict(bt.parse(LOG.splitlines(keepends=True)))
        self.assertEqual(list(rows), ["xen_start", "xen_boot_done", "vdisk_first_line",
                                      "vdisk_ready", "first_read"])
        self.assertAlmostEqual(rows["xen_boot_done"], 500.0, places=3)
        self.assertAlmostEqual(rows["vdisk_first_line"], 400.0, places=3)  # 2.1 + 0.3 - 2.0
        self.assertAlmostEqual(rows["vdisk_ready"], 420.0, places=3)       # the first one
        self.assertAlmostEqual(rows["first_read"], 1100.0, places=3)

    def test_lines_from_a_dom0_scenario_with_crs_and_prefixes(self):
        text = "".join("RIG: " + l.rstrip("\n") + "\r\n" if l.startswith("[") else l
                       for l in LOG.splitlines(keepends=True))
        self.assertAlmostEqual(dict(bt.parse(text.splitlines(keepends=True)))["first_read"],
                               1100.0, places=3)

    def test_what_is_missing_is_named(self):
        for drop, want in (("Freq:", "Freq: N KHz"), ("clock started", "clock started"),
                           ("vdisk: ready", "vdisk_ready"), ("Freed", "init memory"),
                           ("(XEN) [", "console_timestamps=raw")):
            text = [l for l in LOG.splitlines(keepends=True) if drop not in l]
            with self.subTest(drop=drop):
                with self.assertRaisesRegex(ValueError, "missing: .*" + want.replace("(", r"\(")):
                    bt.parse(text)


if __name__ == "__main__":
    unittest.main()
