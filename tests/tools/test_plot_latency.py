"""tools/plot-latency.py: its inputs (fio latency logs, vdisk's histogram text), quantiles,
lib/hist.c's bucket bounds, its errors, and the PNG and CSV it writes.

Run: tests/tools/run.sh (or /usr/bin/python3 -m unittest discover -s tests/tools -v).
"""
import csv
import importlib.util
import os
import random
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in tools/
TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOL = os.path.join(TOP, "tools", "plot-latency.py")
_spec = importlib.util.spec_from_file_location("plot_latency", TOOL)
pl = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(pl)

# A host program over lib/hist.c itself: "bounds" prints hist_bucket_max of every bucket,
# "bucket" the bucket of each value read, "format" hist_format of the values read.
HIST_PROBE_C = r"""
#include <stdio.h>
#include <string.h>
#include "lib/hist.h"
int main(int argc, char **argv)
{
	static struct hist h;
	static char buf[8192];
	unsigned long long v;

	if (argc == 2 && strcmp(argv[1], "bounds") == 0) {
		for (unsigned int i = 0; i < HIST_BUCKETS; i++)
			printf("%llu\n", (unsigned long long)hist_bucket_max(i));
		return 0;
	}
	while (scanf("%llu", &v) == 1) {
		if (strcmp(argv[1], "bucket") == 0)
			printf("%u\n", hist_bucket(v));
		else
			hist_add(&h, v);
	}
	if (strcmp(argv[1], "format") == 0) {
		if (hist_format(&h, buf, sizeof(buf)) < 0)
			return 1;
		printf("%s\n", buf);
	}
	return 0;
}
"""


def build_hist_probe(tmp):
    """The probe built with the host's gcc against lib/hist.c, or None when there is no gcc."""
    cc = shutil.which(os.environ.get("HOSTCC", "gcc"))
    if not cc:
        return None
    src, exe = os.path.join(tmp, "probe.c"), os.path.join(tmp, "probe")
    with open(src, "w") as f:
        f.write(HIST_PROBE_C)
    subprocess.run([cc, "-std=gnu11", "-O1", "-Wall", "-Werror", "-I", TOP, "-o", exe, src,
                    os.path.join(TOP, "lib", "hist.c"), os.path.join(TOP, "lib", "fields.c")],
                   check=True)
    return exe


def probe(exe, mode, values=()):
    """The probe's output lines for these values."""
    out = subprocess.run([exe, mode], input="".join(f"{v}\n" for v in values), text=True,
                         capture_output=True, check=True).stdout
    return out.splitlines()


class Files(unittest.TestCase):
    """Each test gets a temporary directory and writes its inputs there."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="plot-latency-test.")
        self.addCleanup(shutil.rmtree, self.tmp)

    def write(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def run_tool(self, *args):
        return subprocess.run([TOOL, "--out", os.path.join(self.tmp, "out"), *args],
                              capture_output=True, text=True)


class BucketBounds(Files):
    def test_bounds_read_off_hist_c(self):
        # hist_bucket_max(i) = ((4 + i % 4 + 1) << (i / 4 + 1 - 2)) - 1 from bucket 4 on;
        # 0..3 exact; the last (HIST_BUCKETS - 1 = 155) takes everything from 7 * 2^37 on
        self.assertEqual(pl.HIST_BUCKETS, 156)
        self.assertEqual([pl.hist_bucket_max(i) for i in range(17)],
                         [0, 1, 2, 3, 4, 5, 6, 7, 9, 11, 13, 15, 19, 23, 27, 31, 39])
        # README's `vdisk-dom0 latency` figures are bucket tops: 6 * 2^12 - 1, 5 * 2^13 - 1, 2^17 - 1
        self.assertEqual(pl.hist_bucket_max(53), 24575)
        self.assertEqual(pl.hist_bucket_max(56), 40959)
        self.assertEqual(pl.hist_bucket_max(63), 131071)
        self.assertEqual(pl.hist_bucket_max(154), (7 << 37) - 1)
        self.assertEqual(pl.hist_bucket_max(155), (1 << 64) - 1)
        self.assertEqual(pl.hist_bucket(24575), 53)
        self.assertEqual(pl.hist_bucket(24576), 54)
        self.assertEqual(pl.hist_bucket((1 << 40) - 1), 155)
        self.assertEqual(pl.hist_bucket(1 << 40), 155)
        self.assertEqual(pl.hist_bucket((1 << 64) - 1), 155)
        for i in range(1, 156):
            self.assertEqual(pl.hist_bucket(pl.hist_bucket_min(i)), i)
            self.assertEqual(pl.hist_bucket(pl.hist_bucket_max(i)), i)

    def test_bounds_and_buckets_equal_the_compiled_c_code(self):
        exe = build_hist_probe(self.tmp)
        if not exe:
            self.skipTest("no gcc to build lib/hist.c")
        self.assert_same(probe(exe, "bounds"), [str(pl.hist_bucket_max(i)) for i in range(156)],
                         "hist_bucket_max of buckets 0..155")
        values = list(range(0, 5000)) + [(1 << 64) - 1]
        for shift in range(2, 64):
            values += [(1 << shift) - 1, 1 << shift, (1 << shift) + 1, 3 << (shift - 1)]
        self.assert_same(probe(exe, "bucket", values), [str(pl.hist_bucket(v)) for v in values],
                         f"hist_bucket of {len(values)} values")

    def assert_same(self, c, python, what):
        """Lists equal, else the first differences (assertEqual's diff of long lists takes minutes)."""
        self.assertEqual(len(c), len(python), what)
        bad = [(i, a, b) for i, (a, b) in enumerate(zip(c, python)) if a != b]
        self.assertFalse(bad, f"{what}: (index, C, Python) {bad[:5]}")

    def test_hist_format_of_the_c_code_reads_back_with_its_quantiles(self):
        exe = build_hist_probe(self.tmp)
        if not exe:
            self.skipTest("no gcc to build lib/hist.c")
        rng = random.Random(12)
        values = [int(rng.lognormvariate(11, 0.6)) for _ in range(3000)] + [7, 2, 40000000]
        text = probe(exe, "format", values)[0]
        # read_series checks that p50_ns..p999_ns are what the buckets give it
        s = pl.read_series("v", self.write("h.txt", "dom1-51712 service " + text + "\n"))
        fields = dict(w.split("=", 1) for w in text.split())
        self.assertEqual(s.count, len(values))
        self.assertEqual(s.max_ns, int(fields["max_ns"]))
        for name, per_100k in pl.QUANTILES:
            self.assertEqual(s.quantile(per_100k), int(fields[name + "_ns"]))


class Parsing(Files):
    def test_fio_3_33_latency_logs(self):
        # fio 3.33 flush_samples: "time, value, ddir, bs, prio", with log_offset "..., offset,
        # prio", prio in hex with log_prio
        s = pl.read_series("a", self.write("a_lat.log", "1, 70123, 0, 4096, 0\n"
                                                         "1, 69000, 0, 4096, 0\n"
                                                         "2, 180500, 1, 4096, 0\n"))
        self.assertEqual(s.values, [69000, 70123, 180500])
        self.assertEqual(s.source, "fio log")
        s = pl.read_series("b", self.write("b_lat.log", "0, 881234, 0, 4096, 1228800, 0x0000\n"
                                                        "1, 880000, 0, 4096, 4096, 0x0000\n"))
        self.assertEqual(s.values, [880000, 881234])

    def test_value_column(self):
        s = pl.read_series("a", self.write("a.log", "70123\n69000\n\n180500\n"))
        self.assertEqual((s.count, s.values, s.max_ns), (3, [69000, 70123, 180500], 180500))

    def test_histogram_texts_with_and_without_a_prefix(self):
        # tests/unit/test_hist.c: {3, 3, 1000}
        text = ("count=3 mean_ns=335 p50_ns=3 p90_ns=1000 p99_ns=1000 p999_ns=1000 "
                "max_ns=1000 buckets=3:2,1023:1")
        for line in (text, "dom2-51712 service " + text,
                     "bench| BENCH-HIST: vdisk-randread_qd1 dom2-51712 service " + text + "\r"):
            s = pl.read_series("h", self.write("h.txt", line + "\n"))
            self.assertEqual((s.count, s.buckets, s.max_ns), (3, {3: 2, 35: 1}, 1000))
            self.assertEqual(s.source, "vdisk histogram")
            self.assertEqual(s.cdf(), [(3, 2 / 3), (1000, 1.0)])

    def test_two_readings_give_what_was_counted_between_them(self):
        before = "count=3 max_ns=1000 buckets=3:2,1023:1"
        after = "count=7 max_ns=3000 buckets=3:2,1023:3,3071:2"
        s = pl.read_series("h", self.write("h.txt", f"BENCH-HIST: vdisk-a dom2-51712 service {before}\n"
                                                    f"BENCH-HIST: vdisk-b dom2-51712 service {after}\n"))
        self.assertEqual((s.count, s.buckets, s.max_ns), (4, {35: 2, 41: 2}, 3000))
        self.assertEqual(s.quantile(50000), 1023)
        self.assertEqual(s.quantile(99000), 3000)

    def test_readings_that_are_not_of_one_histogram_are_refused(self):
        text = "count=1 max_ns=3 buckets=3:1"
        path = self.write("h.txt", f"dom2-51712 service {text}\ndom2-51712 ioreq {text}\n")
        with self.assertRaisesRegex(pl.InputError, f"^{path}:2: histogram 'dom2-51712 ioreq'"):
            pl.read_series("h", path)
        path = self.write("h.txt", "dom2-51712 service count=2 max_ns=3 buckets=3:2\n"
                                   "dom2-51712 service count=1 max_ns=3 buckets=3:1\n")
        with self.assertRaisesRegex(pl.InputError, f"^{path}:2: bucket 3 holds 1, fewer than 2"):
            pl.read_series("h", path)

    def test_a_histogram_cut_short_or_not_of_hist_c_is_refused(self):
        path = self.write("h.txt", "count=5 max_ns=1000 buckets=3:2,1023:1\n")
        with self.assertRaisesRegex(pl.InputError, f"^{path}:1: the buckets hold 3 values, count=5"):
            pl.read_series("h", path)
        path = self.write("h.txt", "count=1 max_ns=1000 buckets=1000:1\n")
        with self.assertRaisesRegex(pl.InputError, f"^{path}:1: bucket '1000:1': 1000 is not the top"):
            pl.read_series("h", path)
        path = self.write("h.txt", "count=1 p50_ns=3 max_ns=1000 buckets=1023:1\n")
        with self.assertRaisesRegex(pl.InputError, f"^{path}:1: p50_ns=3, but its buckets give 1000"):
            pl.read_series("h", path)

    def test_a_windowed_fio_log_is_refused(self):
        path = self.write("w_lat.log", "500, 70000, 0, 0, 0\n")
        with self.assertRaisesRegex(pl.InputError, f"^{path}:1: block size 0: a windowed fio log"):
            pl.read_series("w", path)


class Quantiles(unittest.TestCase):
    def test_nearest_rank_of_a_known_set(self):
        s = pl.Series("s", "-", values=list(range(1000, 0, -1)))
        self.assertEqual([s.quantile(q) for _, q in pl.QUANTILES], [500, 900, 990, 999])
        self.assertEqual((s.count, s.max_ns), (1000, 1000))
        s = pl.Series("s", "-", values=[5, 1, 3])
        self.assertEqual([s.quantile(q) for _, q in pl.QUANTILES], [3, 5, 5, 5])
        self.assertEqual(s.cdf(), [(1, 1 / 3), (3, 2 / 3), (5, 1.0)])
        s = pl.Series("s", "-", values=[7, 7, 9, 7])
        self.assertEqual(s.cdf(), [(7, 0.75), (9, 1.0)])

    def test_histogram_quantiles_are_bucket_tops_never_past_the_max(self):
        s = pl.Series("s", "-", buckets={3: 2, 35: 1}, max_ns=1000)
        self.assertEqual([s.quantile(q) for _, q in pl.QUANTILES], [3, 1000, 1000, 1000])
        s = pl.Series("s", "-", buckets={35: 10, 41: 990}, max_ns=5000)
        self.assertEqual([s.quantile(q) for _, q in pl.QUANTILES], [3071, 3071, 3071, 3071])
        self.assertEqual(s.max_ns, 3071)


class Errors(Files):
    def test_a_malformed_line_names_file_line_and_text(self):
        path = self.write("bad_lat.log", "1, 70000, 0, 4096, 0\n1, 71000, 0, 4096, 0\n2, 7x00, 0, 4096, 0\n")
        r = self.run_tool(f"vdisk={path}")
        self.assertEqual(r.returncode, 1)
        self.assertIn(f"plot-latency: {path}:3: not a fio log line", r.stderr)
        self.assertIn("'2, 7x00, 0, 4096, 0'", r.stderr)
        path = self.write("bad.log", "70000\n71000 72000\n")
        r = self.run_tool(f"vdisk={path}")
        self.assertEqual(r.returncode, 1)
        self.assertIn(f"{path}:2: not a latency in ns", r.stderr)
        self.assertIn("'71000 72000'", r.stderr)
        path = self.write("dir_lat.log", "1, 70000, 0, 4096, 0\n1, 71000, 3, 4096, 0\n")
        r = self.run_tool(f"vdisk={path}")
        self.assertEqual(r.returncode, 1)
        self.assertIn(f"{path}:2: not a fio log line", r.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "out", "latency.png")))

    def test_a_missing_file_is_named(self):
        path = os.path.join(self.tmp, "nothing.log")
        one = self.write("a.log", "1\n")
        r = self.run_tool(f"vdisk={one}", f"blkback={path}")
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr, f"plot-latency: {path}: No such file or directory\n")

    def test_usage(self):
        r = subprocess.run([TOOL, "--help"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0)
        self.assertIn("LABEL=FILE", r.stdout)
        self.assertIn("fio latency log", r.stdout)
        r = self.run_tool("no-equals-sign")
        self.assertEqual(r.returncode, 2)
        self.assertIn("'no-equals-sign' is not LABEL=FILE", r.stderr)


class Output(Files):
    def test_png_and_csv(self):
        rng = random.Random(5)
        fio = "".join(f"{i // 14}, {int(rng.gauss(70000, 3000))}, 0, 4096, 0\n" for i in range(500))
        col = "".join(f"{int(rng.gauss(54000, 2000))}\n" for _ in range(400)) + "630000\n"
        hist = "count=4 max_ns=20000 buckets=16383:3,20479:1"
        r = self.run_tool("--name", "job", "--title", "a title",
                          f"vdisk={self.write('v_lat.log', fio)}",
                          f"blkback={self.write('b.log', col)}",
                          f"vdisk, service={self.write('s.txt', hist)}")
        self.assertEqual(r.returncode, 0, r.stderr)
        out = os.path.join(self.tmp, "out")
        self.assertEqual(r.stdout, f"plot-latency: {out}/job.png {out}/job.csv\n")
        with open(os.path.join(out, "job.png"), "rb") as f:
            png = f.read()
        self.assertTrue(png.startswith(b"\x89PNG\r\n\x1a\n"))
        self.assertGreater(len(png), 20000)  # not an empty picture
        with open(os.path.join(out, "job.csv"), newline="") as f:
            rows = list(csv.DictReader(f))
        self.assertEqual(list(rows[0]), ["series", "source", "row", "count", "p50_us", "p90_us",
                                         "p99_us", "p999_us", "max_us", "latency_us", "fraction"])
        summary = {r["series"]: r for r in rows if r["row"] == "summary"}
        self.assertEqual(list(summary), ["vdisk", "blkback", "vdisk, service"])
        v = pl.Series("v", "-", values=[int(line.split(",")[1]) for line in fio.splitlines()])
        self.assertEqual(summary["vdisk"]["count"], "500")
        self.assertEqual([summary["vdisk"][k] for k in ("p50_us", "p90_us", "p99_us", "p999_us", "max_us")],
                         [f"{v.quantile(q) / 1000:.3f}" for _, q in pl.QUANTILES] + [f"{v.max_ns / 1000:.3f}"])
        self.assertEqual((summary["blkback"]["count"], summary["blkback"]["max_us"]), ("401", "630.000"))
        self.assertEqual({k: summary["vdisk, service"][k] for k in ("source", "count", "p50_us", "p999_us", "max_us")},
                         {"source": "vdisk histogram", "count": "4", "p50_us": "16.383",
                          "p999_us": "20.000", "max_us": "20.000"})
        cdf = [r for r in rows if r["row"] == "cdf" and r["series"] == "vdisk"]
        self.assertEqual(len(cdf), len(set(v.values)))
        self.assertEqual(cdf[-1], {**cdf[-1], "latency_us": f"{v.max_ns / 1000:.3f}", "fraction": "1.000000"})
        self.assertEqual([(r["latency_us"], r["fraction"]) for r in rows
                          if r["row"] == "cdf" and r["series"] == "vdisk, service"],
                         [("16.383", "0.750000"), ("20.000", "1.000000")])


if __name__ == "__main__":
    unittest.main()
