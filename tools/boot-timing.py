#!/usr/bin/env python3
"""Boot timing from a console log: when Xen started, when vdisk logged its first line, when it
was ready to serve, when a guest's first read completed.

Usage: tools/boot-timing.py LOG
Prints "milestone ms" lines, each in milliseconds after Xen's start, on one clock:
  xen_start           Xen's first console line with a raw timestamp (Xen booted with
                      console_timestamps=raw: "[<system counter, hex>]" on each line; the
                      counter's frequency from Xen's "Freq: N KHz" line)
  xen_boot_done       Xen's "Freed NkB init memory": its boot is over, the domains run
  vdisk_first_line    vdisk's "vdisk ... starting" line
  vdisk_ready         vdisk's "vdisk: ready"
  first_read          vdisk's "...: first read completed" (the first read a guest's driver
                      got back from vdisk)
vdisk's lines carry its own domain's clock; its line "time: this domain's clock started at S s
of the system counter" puts them on the system counter, as Xen's are. The vdisk lines may come
straight from Xen's console (vdisk as dom0) or from a dom0 scenario printing vdisk's console
log. Exits 1 naming what is missing.
"""

import re
import sys

XEN_RAW = re.compile(r"\(XEN\) \[([0-9a-f]{16})\]")
XEN_FREQ = re.compile(r"Freq: ([0-9]+) KHz")
VDISK_LINE = re.compile(r"\[\s*([0-9]+\.[0-9]{6})\] (.*)$")
CLOCK = re.compile(r"time: this domain's clock started at ([0-9]+\.[0-9]{6}) s")
MILESTONES = (
    ("vdisk_first_line", re.compile(r"^vdisk \S+ starting")),
    ("vdisk_ready", re.compile(r"^vdisk: ready")),
    ("first_read", re.compile(r": first read completed")),
)


def parse(lines):
    xen_start = xen_done = freq = clock = None
    found = {}
    for line in lines:
        line = line.rstrip("\r\n")
        m = XEN_RAW.search(line)
        if m and xen_start is None:
            xen_start = int(m.group(1), 16)
        if m and xen_done is None and "Freed" in line and "init memory" in line:
            xen_done = int(m.group(1), 16)
        m = XEN_FREQ.search(line)
        if m and freq is None:
            freq = int(m.group(1)) * 1000
        m = VDISK_LINE.search(line)
        if not m:
            continue
        t, text = float(m.group(1)), m.group(2)
        c = CLOCK.search(text)
        if c and clock is None:
            clock = float(c.group(1))
        for name, pattern in MILESTONES:
            if name not in found and pattern.search(text):
                found[name] = t
    missing = [what for what, v in (("a raw Xen timestamp (console_timestamps=raw)", xen_start),
                                    ("Xen's 'Freq: N KHz' line", freq),
                                    ("Xen's 'Freed NkB init memory' line", xen_done),
                                    ("vdisk's 'time: this domain's clock started' line", clock))
               if v is None]
    missing += [name for name, _ in MILESTONES if name not in found]
    if missing:
        raise ValueError("missing: " + ", ".join(missing))
    base = xen_start / freq
    out = [("xen_start", 0.0), ("xen_boot_done", (xen_done - xen_start) / freq * 1000)]
    for name, _ in MILESTONES:
        out.append((name, (clock + found[name] - base) * 1000))
    return out


def main(argv):
    if len(argv) != 2 or argv[1] in ("-h", "--help"):
        sys.stderr.write(__doc__)
        return 2
    try:
        with open(argv[1], encoding="utf-8", errors="replace") as f:
            rows = parse(f)
    except (OSError, ValueError) as e:
        print(f"boot-timing: {argv[1]}: {e}", file=sys.stderr)
        return 1
    for name, ms in rows:
        print(f"{name} {ms:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
