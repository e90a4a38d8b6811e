"""Host tests of tools/fio: the job files (what tools/plot-latency.py needs of their logs), the
guest's runner (tools/fio/guest-run.sh, with a stand-in fio, and with Debian's fio where it is
installed) and tools/fio/extract.py on consoles of both layouts."""

import configparser
import glob
import importlib.util
import os
import shutil
import subprocess
import tempfile
import unittest

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIO = os.path.join(TOP, "tools", "fio")


def load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


extract = load("extract", os.path.join(FIO, "extract.py"))
plot = load("plot_latency", os.path.join(TOP, "tools", "plot-latency.py"))

JOBS = ("randread-qd1", "randread-qd32", "randwrite-qd1")
# a stand-in for fio: writes NAME_lat.log (write_lat_log= of the job file) with COUNT I/Os of
# latency BIG ns (10 digits: the longest console line) and a summary line
FAKE_FIO = """#!/bin/sh
name=$(sed -n 's/^write_lat_log=//p' "$1")
i=0
while [ $i -lt "${FAKE_COUNT:-20}" ]; do
	echo "$i, $((${FAKE_BIG:-1234567890} + i)), 0, 4096, 0"
	i=$((i + 1))
done >"${name}_lat.log"
echo "$name: (groupid=0, jobs=1): err= 0"
"""


def hist_text(values):
    """A lib/hist.c hist_format text counting VALUES (ns)."""
    buckets = {}
    for v in values:
        b = plot.hist_bucket(v)
        buckets[b] = buckets.get(b, 0) + 1
    items = ",".join(f"{plot.hist_bucket_max(b)}:{n}" for b, n in sorted(buckets.items()))
    return f"count={len(values)} max_ns={max(values, default=0)} buckets={items}"


class JobFilesTest(unittest.TestCase):
    def read(self, name):
        cp = configparser.ConfigParser(interpolation=None, comment_prefixes=("#",))
        with open(os.path.join(FIO, f"{name}.fio"), encoding="utf-8") as f:
            text = f.read()
        cp.read_string(text)
        return text, cp

    def test_the_three_jobs(self):
        self.assertEqual(sorted(os.path.basename(p)[:-4] for p in glob.glob(f"{FIO}/*.fio")),
                         sorted(JOBS))
        for name in JOBS:
            text, cp = self.read(name)
            with self.subTest(job=name):
                self.assertEqual(cp.sections(), [name])
                job = cp[name]
                rw, qd = name.split("-qd")
                self.assertEqual(job["rw"], rw)
                self.assertEqual(job["iodepth"], qd)
                for key, want in (("filename", "${DEV}"), ("ioengine", "libaio"), ("direct", "1"),
                                  ("bs", "4k"), ("write_lat_log", name), ("log_avg_msec", "0"),
                                  ("per_job_logs", "0"), ("lat_percentiles", "1")):
                    self.assertEqual(job.get(key), want, key)
                self.assertTrue(job.get("number_ios") or job.get("runtime"), "unbounded")
                self.assertTrue(text.startswith(f"# {name}: 4 KiB random "), "no header")
                if rw.endswith("write"):
                    self.assertIn("DESTROYS THE DATA", text)
                else:
                    self.assertIn("the disk's data is left as it is", text)


class GuestRunTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="fio-test.")
        self.bin = os.path.join(self.dir, "bin")
        os.mkdir(self.bin)
        self.disk = os.path.join(self.dir, "disk")
        with open(self.disk, "wb") as f:
            f.truncate(16 << 20)

    def tearDown(self):
        shutil.rmtree(self.dir)

    def run_guest(self, jobs, env=None, fake=True):
        if fake:
            with open(os.path.join(self.bin, "fio"), "w", encoding="utf-8") as f:
                f.write(FAKE_FIO)
            os.chmod(os.path.join(self.bin, "fio"), 0o755)
        e = dict(os.environ, DEV=self.disk, FIO_GAP="0", TMPDIR=self.dir)
        if fake:
            e["PATH"] = self.bin + os.pathsep + e["PATH"]
        e.update(env or {})
        r = subprocess.run(["sh", os.path.join(FIO, "guest-run.sh")] + jobs, env=e, cwd=self.dir,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=100)
        return r.returncode, r.stdout

    def test_marks_latencies_and_short_lines(self):
        rc, out = self.run_guest([os.path.join(FIO, f"{j}.fio") for j in JOBS],
                                 {"FAKE_COUNT": "21"})
        self.assertEqual(rc, 0, out)
        lines = out.splitlines()
        self.assertEqual([l for l in lines if l.startswith("FIO-MARK")],
                         [f"FIO-MARK: {j} {w}" for j in JOBS for w in ("start", "end")])
        self.assertEqual(lines[-1], "FIO-DONE")
        for j in JOBS:
            self.assertIn(f"FIO-LAT-END: {j} 21", lines)
        fio_lines = [l for l in lines if l.startswith("FIO-")]
        # Xen's vpl011 cuts a dom0less guest's lines at 126 characters (with the \r)
        self.assertLess(max(len(l) for l in fio_lines), 124)
        self.assertEqual(sorted(os.listdir(self.dir)), ["bin", "disk"], "work files left behind")

    def test_jobs_from_the_environment(self):
        os.mkdir(os.path.join(self.dir, "jobs"))
        rc, out = self.run_guest([], {"FIO_JOBS": "randwrite-qd1,randread-qd1"})
        # /fio/NAME.fio: not on this host, so each is named as missing, in that order
        self.assertEqual(rc, 1)
        self.assertIn("FIO-ERROR: /fio/randwrite-qd1.fio: no such job file", out)
        self.assertLess(out.index("randwrite-qd1"), out.index("randread-qd1.fio"))
        self.assertTrue(out.endswith("FIO-DONE\n"))

    def test_no_device(self):
        rc, out = self.run_guest([os.path.join(FIO, "randread-qd1.fio")],
                                 {"DEV": os.path.join(self.dir, "none"), "FIO_WAIT": "1"})
        self.assertEqual(rc, 1)
        self.assertIn("no such block device", out)

    @unittest.skipUnless(shutil.which("fio"), "fio not installed")
    def test_with_fio(self):
        """Debian's fio runs the job files (fewer I/Os) and plot-latency reads their logs."""
        jobs = []
        for j in JOBS:
            with open(os.path.join(FIO, f"{j}.fio"), encoding="utf-8") as f:
                text = f.read().replace("number_ios=20000", "number_ios=64")
            jobs.append(os.path.join(self.dir, f"{j}.fio"))
            with open(jobs[-1], "w", encoding="utf-8") as f:
                f.write(text)
        rc, out = self.run_guest(jobs, fake=False)
        self.assertEqual(rc, 0, out)
        console = os.path.join(self.dir, "console.log")
        with open(console, "w", encoding="utf-8") as f:
            f.write(out)
        problems, done = extract.extract(extract.parse(out.split("\n")), os.path.join(self.dir, "x"))
        self.assertEqual([d[0] for d in done], list(JOBS))
        for job, lat_file, _ in done:
            series = plot.read_series(job, lat_file)
            self.assertEqual(series.count, 64)
        # only the histograms are missing: no vdisk here
        self.assertTrue(all("no histogram" in p for p in problems), problems)


class ExtractTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="extract-test.")

    def tearDown(self):
        shutil.rmtree(self.dir)

    def extract(self, lines):
        """tools/fio/extract.py on a console log made of `lines`: the finished process."""
        path = os.path.join(self.dir, "console.log")
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        return subprocess.run(["/usr/bin/python3", os.path.join(FIO, "extract.py"), path,
                               os.path.join(self.dir, "out")],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              timeout=60)

    def guest_lines(self, job, values):
        out = [f"FIO-MARK: {job} start", f"FIO-MARK: {job} end"]
        lat = [f"FIO-LAT: {job} " + " ".join(map(str, values[i:i + 8]))
               for i in range(0, len(values), 8)]
        return out, lat + [f"FIO-LAT-END: {job} {len(values)}"]

    def check(self, lines, want_jobs):
        path = os.path.join(self.dir, "console.log")
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        out = os.path.join(self.dir, "out")
        r = subprocess.run(["/usr/bin/python3", os.path.join(FIO, "extract.py"), path, out],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
        for job, (n_lat, hists) in want_jobs.items():
            self.assertEqual(plot.read_series(job, os.path.join(out, f"{job}.lat")).count, n_lat)
            for name, count in hists.items():
                s = plot.read_series(name, os.path.join(out, f"{job}.{name}.hist"))
                self.assertEqual(s.count, count, f"{job}.{name}")
            self.assertIn(f"--name {job} 'fio in the guest, total latency=", r.stdout)
        return r

    def test_layout_a(self):
        """dom0-run.sh's FIO-HIST lines at the marks, the guest's lines passed on."""
        lines = ["RIG: dom0 ready"]
        served = [30000] * 5  # the guest's boot
        for job, n in (("randread-qd1", 20), ("randwrite-qd1", 12)):
            marks, lat = self.guest_lines(job, list(range(1000, 1000 + n)))
            for which, mark in zip(("start", "end"), marks):
                lines.append(mark)
                lines.append(f"FIO-HIST: {job} {which} upcall {hist_text([2000])}")
                lines.append(f"FIO-HIST: {job} {which} dom2-51712 service {hist_text(served)}")
                lines.append(f"FIO-HIST: {job} {which} dom2-51712 ioreq {hist_text(served * 3)}")
                served = served + [40000 + i for i in range(n)]
            lines += lat
        r = self.check(lines, {"randread-qd1": (20, {"dom2-51712.service": 20,
                                                     "dom2-51712.ioreq": 60}),
                               "randwrite-qd1": (12, {"dom2-51712.service": 12})})
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.dir, "out", "randread-qd1.upcall.hist")))

    def test_layout_b(self):
        """Xen's console: the guest's lines as DOM1, vdisk's periodic readings, split ones."""
        def vdisk(counted):
            text = hist_text(counted)
            first, rest = text[:60], text[60:]  # a text that goes on over two lines
            return [f"[   12.3] latency: upcall {hist_text([1500])}",
                    f"[   12.3] latency: dom1-0 service {first}",
                    "(XEN) DOM1: [    3.1] some kernel line in between",
                    f"[   12.3] latency: dom1-0 service +{rest}",
                    f"[   12.3] latency: dom1-1 service {hist_text([])}"]
        lines = ["(XEN) Xen version 4.17"]
        served = [50000 + i for i in range(7)]
        lines += vdisk(served)
        lat_lines = []
        for job, n in (("randread-qd1", 17), ("randread-qd32", 9)):
            marks, lat = self.guest_lines(job, list(range(5000, 5000 + n)))
            lines.append(f"(XEN) DOM1: {marks[0]}\r")
            lines += vdisk(served)  # during the gap before fio
            lines.append("(XEN) DOM1: fio output")
            served = served + [60000 + 10 * i for i in range(n)]
            lines.append(f"(XEN) DOM1: {marks[1]}\r")
            lines += vdisk(served)
            lat_lines += [f"(XEN) DOM1: {l}\r" for l in lat]
        lines += lat_lines + ["(XEN) DOM1: FIO-DONE"]
        r = self.check(lines, {"randread-qd1": (17, {"dom1-0.service": 17}),
                               "randread-qd32": (9, {"dom1-0.service": 9})})
        self.assertEqual(r.returncode, 0, r.stderr)
        # the disk the jobs did not use has no histogram
        self.assertFalse(glob.glob(os.path.join(self.dir, "out", "*dom1-1*")))

    def test_problems_are_named(self):
        marks, lat = self.guest_lines("randread-qd1", list(range(100, 120)))
        lines = marks + lat[1:] + ["FIO-ERROR: randwrite-qd1: fio exit status 1",
                                   "FIO-MARK: randwrite-qd1 start"]
        r = self.extract(lines)
        self.assertEqual(r.returncode, 1)
        self.assertIn("randread-qd1: 12 latencies in FIO-LAT lines, FIO-LAT-END says 20", r.stderr)
        self.assertIn("the guest says FIO-ERROR: randwrite-qd1: fio exit status 1", r.stderr)
        self.assertIn("randwrite-qd1: no 'FIO-MARK: randwrite-qd1 end' line", r.stderr)
        self.assertIn("randread-qd1: no histogram of vdisk's", r.stderr)

    def test_layout_b_reading_too_rare(self):
        """latency_period longer than the gap: no reading between two jobs is refused."""
        lines = [f"latency: dom1-0 service {hist_text([1])}"]
        for job in ("randread-qd1", "randread-qd32"):
            marks, lat = self.guest_lines(job, [7, 8])
            lines += marks + lat
        lines.append(f"latency: dom1-0 service {hist_text([1, 2, 3, 4, 5])}")
        r = self.extract(lines)
        self.assertEqual(r.returncode, 1)
        self.assertIn("randread-qd1: no complete reading of vdisk's 'dom1-0 service' after it", r.stderr)
        self.assertIn("must be shorter than the guest's FIO_GAP", r.stderr)


if __name__ == "__main__":
    unittest.main()
