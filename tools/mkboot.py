#!/usr/bin/python3
"""Board description -> U-Boot script and boot disk for Xen + vdisk.

Usage: tools/mkboot.py [--check] BOARD OUTDIR

Reads BOARD (the format is below), writes into OUTDIR:
  boot.cmd   the U-Boot script, readable (what it loads where, and the device-tree edits)
  boot.scr   the same wrapped by `mkimage -T script` (Debian's u-boot-tools), what U-Boot runs
  boot.img   a disk image: an MBR with one bootable FAT partition from 1 MiB holding boot.scr,
             boot.cmd and every image the description names, under the names the script loads
  layout.txt the load map (address, size, file) as the tool planned it
With --check only the description is read and the load map printed; nothing is written.

U-Boot's own distro boot (`bootcmd=run distro_bootcmd`) finds boot.scr on the bootable
partition of any boot device and runs it with ${devtype}, ${devnum} and ${distro_bootpart}
set; the script loads from there. Copy boot.img to an SD card (dd), or boot QEMU with it as a
virtio disk. By hand at a U-Boot prompt:
  load mmc 0:1 ${scriptaddr} boot.scr; source ${scriptaddr}
(the script then uses [board] boot_device, or mmc 0:1 when that is "auto").

The board description: `key = value` lines under [section] headers, `#` starts a comment
line. Numbers take 0x for hexadecimal and K, M or G suffixes. Relative file names are relative
to the description's own directory.

  [board]
  name = qemu-virt            a name for messages (letters, digits, - and _)
  ram_start = 0x40000000      first address of RAM (required)
  ram_size = 2G               size of the RAM bank from ram_start (required), the one U-Boot
                              relocates itself to the top of: everything must fit below
                              its top 64 MiB
  load_start = 0x42000000     where the first image goes (default ram_start + 32M); the others
                              follow in the order below, each 2 MiB aligned
  device_tree = firmware      "firmware" (default): the device tree U-Boot was handed
                              (${fdtcontroladdr}: QEMU's, a Raspberry Pi firmware's), copied
                              before it is edited; or a .dtb file put on the disk
  boot_device = auto          where the script loads from: "auto" (default) = where distro
                              boot found the script, else mmc 0:1; or "IFACE DEV:PART",
                              e.g. "mmc 1:1"
  [xen]
  image = xen                 Xen's arm64 Image (required)
  bootargs = console=dtuart dtuart=serial0 dom0_mem=512M
  [dom0]
  kernel = Image              dom0's kernel (required): Linux (layout A) or vdisk.img (layout B)
  ramdisk = initrd.cpio       optional
  bootargs = console=hvc0
  [domU NAME]                 a dom0less domain (any number, each its own NAME)
  kernel = Image              required
  ramdisk = initrd.cpio       optional
  device_tree = guest.dtb     optional partial device tree (multiboot,device-tree): nodes
                              under /passthrough reach the guest's device tree
  memory = 256M               required, at least 1M
  cpus = 1                    default 1
  bootargs = console=ttyAMA0
  vpl011 = yes                emulated PL011 console for the domain (default yes)
  [disk]
  size = auto                 image size (default auto: the files plus 16 MiB, at least 64 MiB)
  files = config.txt u-boot.bin   more files for the partition's root, copied as they are
                              (a board's firmware: a Raspberry Pi's start4.elf, fixup4.dat,
                              config.txt, its .dtb and U-Boot), under their own names

Errors name the file, the line or section, the key and the value; exit status 1.
"""

import configparser
import os
import re
import shutil
import struct
import subprocess
import sys

MIB = 1 << 20
ALIGN = 2 * MIB  # arm64 Image placement; also keeps every module page aligned
UBOOT_TOP_RESERVE = 64 * MIB  # U-Boot relocates itself, its stack and heap to the top of RAM
FDT_ROOM = MIB  # the copied or loaded device tree may grow to this size
PART_START = MIB  # the FAT partition's first byte in boot.img
NAME_RE = re.compile(r"^[A-Za-z0-9_-]+$")


class BoardError(Exception):
    pass


def parse_size(where, key, value):
    """A number with an optional 0x prefix and K/M/G suffix."""
    m = re.fullmatch(r"\s*(0x[0-9a-fA-F]+|[0-9]+)\s*([KMG]?)\s*", value)
    if not m:
        raise BoardError(f"{where}: {key} = '{value}' is not a number (0x.. or decimal, K/M/G)")
    n = int(m.group(1), 0)
    return n << {"": 0, "K": 10, "M": 20, "G": 30}[m.group(2)]


def check_text(where, key, value):
    """Values copied into the script: U-Boot's shell would expand $ and end a string at "."""
    bad = [c for c in '"$\\;\n' if c in value]
    if bad:
        raise BoardError(f"{where}: {key} = '{value}': {bad[0]!r} cannot be passed through a "
                         "U-Boot script")
    return value


class Board:
    KEYS = {
        "board": {"name", "ram_start", "ram_size", "load_start", "device_tree", "boot_device"},
        "xen": {"image", "bootargs"},
        "dom0": {"kernel", "ramdisk", "bootargs"},
        "domU": {"kernel", "ramdisk", "device_tree", "memory", "cpus", "bootargs", "vpl011"},
        "disk": {"size", "files"},
    }

    def __init__(self, path):
        self.path = path
        self.dir = os.path.dirname(os.path.abspath(path))
        cp = configparser.ConfigParser(interpolation=None, comment_prefixes=("#",),
                                       inline_comment_prefixes=None, strict=True)
        cp.optionxform = str  # keys are case-sensitive
        try:
            with open(path, encoding="utf-8") as f:
                cp.read_file(f)
        except OSError as e:
            raise BoardError(f"{path}: {e.strerror}") from None
        except configparser.Error as e:
            raise BoardError(f"{path}: {' '.join(str(e).split())}") from None
        self.cp = cp
        for sec in cp.sections():
            kind = "domU" if sec.startswith("domU ") else sec
            if kind not in self.KEYS:
                raise BoardError(f"{path}: [{sec}] is not a section this tool knows "
                                 "(board, xen, dom0, domU NAME, disk)")
            for key in cp[sec]:
                if key not in self.KEYS[kind]:
                    raise BoardError(f"{path}: [{sec}] {key} = '{cp[sec][key]}': unknown key "
                                     f"(known: {', '.join(sorted(self.KEYS[kind]))})")
        for sec in ("board", "xen", "dom0"):
            if sec not in cp:
                raise BoardError(f"{path}: no [{sec}] section")

        b = cp["board"]
        self.name = self.get("board", "name", "board")
        if not NAME_RE.match(self.name):
            raise BoardError(f"{path}: [board] name = '{self.name}': letters, digits, - and _ only")
        self.ram_start = self.size("board", "ram_start", None)
        self.ram_size = self.size("board", "ram_size", None)
        self.load_start = self.size("board", "load_start", self.ram_start + 32 * MIB)
        if self.load_start % ALIGN:
            raise BoardError(f"{path}: [board] load_start = '{b['load_start']}' is not 2 MiB "
                             "aligned")
        if not self.ram_start <= self.load_start < self.ram_start + self.ram_size:
            raise BoardError(f"{path}: [board] load_start = '{b.get('load_start')}' is outside "
                             f"RAM ({self.ram_start:#x}, {self.ram_size:#x} bytes)")
        self.dtb = self.get("board", "device_tree", "firmware")
        if self.dtb != "firmware":
            self.dtb = self.file("board", "device_tree")
        self.boot_device = self.get("board", "boot_device", "auto")
        if self.boot_device != "auto" and not re.fullmatch(r"[a-z]+ [0-9]+:[0-9]+",
                                                           self.boot_device):
            raise BoardError(f"{path}: [board] boot_device = '{self.boot_device}': want auto or "
                             "'IFACE DEV:PART' (e.g. 'mmc 0:1')")

        self.xen = self.file("xen", "image")
        self.xen_args = check_text(f"{path}: [xen]", "bootargs", self.get("xen", "bootargs", ""))
        self.dom0_kernel = self.file("dom0", "kernel")
        self.dom0_ramdisk = self.file("dom0", "ramdisk", optional=True)
        self.dom0_args = check_text(f"{path}: [dom0]", "bootargs",
                                    self.get("dom0", "bootargs", ""))

        self.domus = []
        for sec in cp.sections():
            if not sec.startswith("domU "):
                continue
            name = sec[5:].strip()
            if not NAME_RE.match(name):
                raise BoardError(f"{path}: [{sec}]: a domain's name is letters, digits, - and _")
            memory = self.size(sec, "memory", None)
            if memory < MIB or memory % 1024:
                raise BoardError(f"{path}: [{sec}] memory = '{cp[sec]['memory']}': at least 1M, "
                                 "in whole KiB")
            cpus = self.size(sec, "cpus", 1)
            if not 1 <= cpus <= 128:
                raise BoardError(f"{path}: [{sec}] cpus = '{cp[sec]['cpus']}': 1 to 128")
            vpl011 = self.get(sec, "vpl011", "yes")
            if vpl011 not in ("yes", "no"):
                raise BoardError(f"{path}: [{sec}] vpl011 = '{vpl011}': yes or no")
            self.domus.append({
                "name": name,
                "kernel": self.file(sec, "kernel"),
                "ramdisk": self.file(sec, "ramdisk", optional=True),
                "dtb": self.file(sec, "device_tree", optional=True),
                "memory": memory,
                "cpus": cpus,
                "vpl011": vpl011 == "yes",
                "bootargs": check_text(f"{path}: [{sec}]", "bootargs", self.get(sec, "bootargs", "")),
            })
        self.disk_size = None
        if "disk" in cp and self.get("disk", "size", "auto") != "auto":
            self.disk_size = self.size("disk", "size", None)
        self.extra = []
        taken = {"boot.scr", "boot.cmd", "xen", "board.dtb", "dom0-kernel", "dom0-ramdisk"}
        taken |= {f"{d['name']}-{r}" for d in self.domus for r in ("kernel", "ramdisk", "dtb")}
        for value in self.get("disk", "files", "").split():
            p = value if os.path.isabs(value) else os.path.join(self.dir, value)
            name = os.path.basename(p)
            if not os.path.isfile(p):
                raise BoardError(f"{path}: [disk] files: '{value}': no such file ({p})")
            if name in taken:
                raise BoardError(f"{path}: [disk] files: '{value}': the partition already has "
                                 f"a file named {name}")
            taken.add(name)
            self.extra.append((p, name))

    def get(self, sec, key, default):
        if sec in self.cp and key in self.cp[sec]:
            return self.cp[sec][key].strip()
        return default

    def size(self, sec, key, default):
        value = self.get(sec, key, None)
        if value is None:
            if default is None:
                raise BoardError(f"{self.path}: [{sec}] {key} is required")
            return default
        return parse_size(f"{self.path}: [{sec}]", key, value)

    def file(self, sec, key, optional=False):
        value = self.get(sec, key, None)
        if not value:
            if optional:
                return None
            raise BoardError(f"{self.path}: [{sec}] {key} is required")
        p = value if os.path.isabs(value) else os.path.join(self.dir, value)
        if not os.path.isfile(p):
            raise BoardError(f"{self.path}: [{sec}] {key} = '{value}': no such file ({p})")
        return p


def align_up(n, a):
    return (n + a - 1) // a * a


def plan(board):
    """The load map: [(role, file or None, name on the disk, address, size)], in load order."""
    items = [("xen", board.xen, "xen")]
    items.append(("fdt", None if board.dtb == "firmware" else board.dtb, "board.dtb"))
    items.append(("dom0", board.dom0_kernel, "dom0-kernel"))
    if board.dom0_ramdisk:
        items.append(("dom0-ramdisk", board.dom0_ramdisk, "dom0-ramdisk"))
    for d in board.domus:
        for role, key in (("kernel", "kernel"), ("ramdisk", "ramdisk"), ("dtb", "dtb")):
            if d[key]:
                items.append((f"{d['name']}-{role}", d[key], f"{d['name']}-{role}"))
    out = []
    addr = board.load_start
    for role, path, disk_name in items:
        size = FDT_ROOM if role == "fdt" else os.path.getsize(path)
        if role == "fdt" and path and os.path.getsize(path) > FDT_ROOM - 64 * 1024:
            raise BoardError(f"{board.path}: [board] device_tree = '{path}': larger than "
                             f"{FDT_ROOM // 1024 - 64} KiB")
        out.append((role, path, disk_name, addr, size))
        addr = align_up(addr + size, ALIGN)
    top = board.ram_start + board.ram_size - UBOOT_TOP_RESERVE
    if addr > top:
        raise BoardError(f"{board.path}: the images end at {addr:#x}, past {top:#x} (RAM "
                         f"{board.ram_start:#x} + [board] ram_size = "
                         f"'{board.get('board', 'ram_size', '')}', less 64 MiB for U-Boot)")
    return out


def cells(n):
    return f"0x{n >> 32:x} 0x{n & 0xffffffff:x}"


def script(board, items):
    """The U-Boot script's text."""
    by_role = {i[0]: i for i in items}
    lines = [
        f"# U-Boot script for board '{board.name}': Xen, its device tree and the domains'",
        f"# images from one FAT partition. Generated by tools/mkboot.py from "
        f"{os.path.basename(board.path)}.",
        "# Load map:",
    ]
    for role, path, disk_name, addr, size in items:
        what = disk_name if path else "the firmware's device tree (copied)"
        lines.append(f"#   {addr:#010x} {size:10d}  {role:14s} {what}")
    if board.boot_device == "auto":
        lines += [
            "# Loads from where distro boot found this script, else from mmc 0:1.",
            'if test -z "${devtype}"; then setenv devtype mmc; setenv devnum 0; '
            "setenv distro_bootpart 1; fi",
        ]
    else:
        iface, rest = board.boot_device.split(" ")
        dev, part = rest.split(":")
        lines += [f"setenv devtype {iface}", f"setenv devnum {dev}", f"setenv distro_bootpart {part}"]
    lines += ["setenv vb_fail",
              f'echo "vdisk-boot: board {board.name}, images from '
              '${devtype} ${devnum}:${distro_bootpart}"']

    def load(role):
        _, _, disk_name, addr, _ = by_role[role]
        return [f"if load ${{devtype}} ${{devnum}}:${{distro_bootpart}} {addr:#x} {disk_name}; "
                f'then echo "vdisk-boot: {disk_name}: 0x${{filesize}} bytes at {addr:#x}"; '
                f'else echo "vdisk-boot: FAILED to load {disk_name}"; exit; fi']

    def module(node, role, compatible, bootargs=None):
        addr = by_role[role][3]
        out = load(role) + [
            f"fdt mknode {node.rsplit('/', 1)[0]} {node.rsplit('/', 1)[1]}",
            f"fdt set {node} compatible {compatible}",
            f"fdt set {node} reg <{cells(addr)} 0x0 0x${{filesize}}>",
        ]
        if bootargs is not None:
            out.append(f'fdt set {node} bootargs "{bootargs}"')
        return out

    lines += load("xen")
    fdt = by_role["fdt"][3]
    if by_role["fdt"][1]:
        lines += load("fdt") + [f"fdt addr {fdt:#x}", f"fdt resize {FDT_ROOM // 2:#x}"]
    else:
        lines += ["fdt addr ${fdtcontroladdr}",
                  f"fdt move ${{fdtcontroladdr}} {fdt:#x} {FDT_ROOM:#x}"]
    lines += [
        "fdt set /chosen \\#address-cells <0x2>",
        "fdt set /chosen \\#size-cells <0x2>",
        f'fdt set /chosen xen,xen-bootargs "{board.xen_args}"',
    ]
    lines += module("/chosen/dom0", "dom0",
                    '"xen,linux-zimage" "xen,multiboot-module" "multiboot,module"')
    lines.append(f'fdt set /chosen xen,dom0-bootargs "{board.dom0_args}"')
    if board.dom0_ramdisk:
        lines += module("/chosen/dom0-ramdisk", "dom0-ramdisk",
                        '"xen,linux-initrd" "xen,multiboot-module" "multiboot,module"')
    for d in board.domus:
        node = f"/chosen/domU-{d['name']}"
        lines += [
            f"fdt mknode /chosen domU-{d['name']}",
            f'fdt set {node} compatible "xen,domain"',
            f"fdt set {node} \\#address-cells <0x2>",
            f"fdt set {node} \\#size-cells <0x2>",
            f"fdt set {node} memory <{cells(d['memory'] // 1024)}>",
            f"fdt set {node} cpus <{d['cpus']}>",
        ]
        if d["vpl011"]:
            lines.append(f"fdt set {node} vpl011")
        lines += module(f"{node}/module@{by_role[d['name'] + '-kernel'][3]:x}", f"{d['name']}-kernel",
                        '"multiboot,kernel" "multiboot,module"', d["bootargs"])
        if d["ramdisk"]:
            lines += module(f"{node}/module@{by_role[d['name'] + '-ramdisk'][3]:x}",
                            f"{d['name']}-ramdisk",
                            '"multiboot,ramdisk" "multiboot,module"')
        if d["dtb"]:
            lines += module(f"{node}/module@{by_role[d['name'] + '-dtb'][3]:x}", f"{d['name']}-dtb",
                            '"multiboot,device-tree" "multiboot,module"')
    # A device-tree edit that fails (no space, no such node) must stop the boot, not boot Xen
    # with half a /chosen: each one marks vb_fail, checked before booti.
    lines = [f"{l} || setenv vb_fail 1" if l.startswith("fdt ") else l for l in lines]
    lines += [
        'if test -n "${vb_fail}"; then echo "vdisk-boot: FAILED: a device-tree edit above '
        'failed"; exit; fi',
        "setenv fdt_high 0xffffffffffffffff",
        'echo "vdisk-boot: booting Xen"',
        f"booti {by_role['xen'][3]:#x} - {fdt:#x}",
        'echo "vdisk-boot: FAILED: booti returned"',
    ]
    return "\n".join(lines) + "\n"


def run(cmd):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        raise BoardError(f"{' '.join(cmd)} failed: {r.stdout.strip()}")


def mbr(disk_bytes):
    """A DOS partition table: partition 1, bootable, FAT32 (LBA), from PART_START to the end."""
    start = PART_START // 512
    count = disk_bytes // 512 - start
    entry = struct.pack("<B3sB3sII", 0x80, b"\xfe\xff\xff", 0x0C, b"\xfe\xff\xff", start, count)
    sector = bytearray(512)
    struct.pack_into("<I", sector, 440, 0x7664736B)  # disk signature
    sector[446:462] = entry
    sector[510:512] = b"\x55\xaa"
    return bytes(sector)


def make_disk(board, items, outdir):
    need_tool = [t for t in ("mkimage", "mformat", "mcopy") if not shutil.which(t)]
    if need_tool:
        raise BoardError(f"{', '.join(need_tool)} not found: install u-boot-tools and mtools "
                         "(tools/deps.sh)")
    files = [(p, n) for _, p, n, _, _ in items if p] + board.extra
    payload = sum(os.path.getsize(p) for p, _ in files)
    size = board.disk_size or max(64 * MIB, align_up(payload + 16 * MIB, 8 * MIB))
    if size < payload + 8 * MIB:
        raise BoardError(f"{board.path}: [disk] size = '{board.get('disk', 'size', '')}' is less "
                         f"than the {payload} bytes of images plus 8 MiB")
    with open(os.path.join(outdir, "boot.cmd"), "w", encoding="utf-8") as f:
        f.write(script(board, items))
    run(["mkimage", "-q", "-A", "arm64", "-O", "linux", "-T", "script", "-C", "none",
         "-n", f"vdisk boot: {board.name}", "-d", os.path.join(outdir, "boot.cmd"),
         os.path.join(outdir, "boot.scr")])
    img = os.path.join(outdir, "boot.img")
    tmp = img + ".tmp"
    with open(tmp, "wb") as f:
        f.truncate(size)
        f.write(mbr(size))
    part = f"{tmp}@@{PART_START}"
    env = dict(os.environ, MTOOLS_SKIP_CHECK="1")
    sectors = (size - PART_START) // 512
    for cmd in (["mformat", "-i", part, "-F", "-T", str(sectors), "-v", "VDISKBOOT", "::"],
                ["mcopy", "-i", part, os.path.join(outdir, "boot.scr"),
                 os.path.join(outdir, "boot.cmd"), "::"]):
        r = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if r.returncode != 0:
            raise BoardError(f"{' '.join(cmd)} failed: {r.stdout.strip()}")
    for path, name in files:
        r = subprocess.run(["mcopy", "-i", part, path, f"::{name}"], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if r.returncode != 0:
            raise BoardError(f"mcopy {path} failed: {r.stdout.strip()}")
    os.replace(tmp, img)


def layout_text(items):
    out = []
    for role, path, disk_name, addr, size in items:
        out.append(f"{addr:#010x} {size:10d} {role} {path or 'firmware device tree (copied)'}")
    return "\n".join(out) + "\n"


def main(argv):
    args = argv[1:]
    check = bool(args) and args[0] == "--check"
    if check:
        args = args[1:]
    if len(args) != (1 if check else 2) or args[0] in ("-h", "--help"):
        sys.stderr.write(__doc__)
        return 2
    try:
        board = Board(args[0])
        items = plan(board)
        if check:
            sys.stdout.write(layout_text(items))
            return 0
        outdir = args[1]
        os.makedirs(outdir, exist_ok=True)
        with open(os.path.join(outdir, "layout.txt"), "w", encoding="utf-8") as f:
            f.write(layout_text(items))
        make_disk(board, items, outdir)
    except BoardError as e:
        print(f"mkboot: {e}", file=sys.stderr)
        return 1
    print(f"mkboot: {outdir}/boot.img ({os.path.getsize(os.path.join(outdir, 'boot.img')) >> 20} "
          f"MiB): board {board.name}, {len([i for i in items if i[1]])} images, "
          f"script {outdir}/boot.cmd")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
