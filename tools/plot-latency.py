#!/usr/bin/python3
"""Latency pictures: fio's latency logs and vdisk's histograms as a PNG plot and a CSV.

Usage: tools/plot-latency.py --out DIR [--name NAME] [--title TEXT] LABEL=FILE...

Each LABEL=FILE is one series, drawn in its own colour and named LABEL in the legend and the
CSV. What FILE holds is recognised from its first line that is not blank:

  fio latency log   fio --write_lat_log=NAME --log_avg_msec=0 (fio writes NAME_lat.log,
                    NAME_clat.log, NAME_slat.log; NAME_lat is the total latency, submission to
                    completion): one line per I/O, "time ms, latency ns, direction, block size,
                    [offset,] priority". Windowed logs (log_avg_msec > 0: averages, block size
                    0) are refused.
  latency values    the value column of such a log alone, one latency in ns a line (what
                    `make bench` cuts from the guest's console).
  vdisk histogram   the text of lib/hist.c hist_format, "count=N mean_ns=N p50_ns=N p90_ns=N
                    p99_ns=N p999_ns=N max_ns=N buckets=MAX:N,...", one a line, after any
                    prefix: `vdisk-dom0 latency` prints "DEVICE KIND count=...", make bench
                    "BENCH-HIST: SNAPSHOT DEVICE service count=...". Two or more lines must be
                    readings of one histogram (the same last two words before count=: DEVICE
                    KIND), in time order: the series is what was counted from the first to the
                    last (make bench reads the histogram before and after a job). Keep one
                    histogram a file (e.g. `vdisk-dom0 latency 1 | grep 51712.service`).

Writes into DIR (made if missing):
  NAME.csv  per series a "summary" row (count; p50, p90, p99, p99.9 and max in microseconds)
            and its CDF, one "cdf" row per point (latency in us, fraction of I/Os at or
            below it). Columns: series,source,row,count,p50_us,p90_us,p99_us,p999_us,max_us,
            latency_us,fraction
  NAME.png  left: the histogram, on a log time axis, in % of the series' I/Os in each bucket
            (a quarter of a power of two: series of different counts compare, and a
            distribution even in log time is flat; the last bucket ends at the largest value);
            right: the CDF on a "nines" scale (0%, 90%, 99%, 99.9% equally
            spaced: the tail is drawn as large as the body; its last step is the maximum). p50,
            p99 and p99.9 are marked per series (lines on the left, points with their values
            on the right) and the legend gives them.

All series share vdisk's histogram buckets (lib/hist.h: exact below 4 ns, then four to each
power of two): fio's values are counted into them for the left panel. Quantiles are nearest
rank (the value at rank ceil(count * q), as hist.c computes them): exact for fio's values; for
a histogram the top of the bucket reaching the rank, at most the largest value counted, so at
most 25% above the true value (and above fio's own percentiles, which come from its finer
buckets).

Exit status 0; 1 when a file cannot be read or a line not parsed (the message names the file,
the line and the text); 2 for a usage error.
"""
import argparse
import csv
import math
import os
import sys

# lib/hist.h
HIST_LOG2_MAX = 40
HIST_BUCKETS = (HIST_LOG2_MAX - 1) * 4
U64_MAX = (1 << 64) - 1

# (name in the CSV and in hist_format, per 100000 as hist.c's hist_quantile takes them)
QUANTILES = (("p50", 50000), ("p90", 90000), ("p99", 99000), ("p999", 99900))
# the ones marked in the plot: name, per 100000, line style on the left panel
MARKED = (("p50", 50000, "-"), ("p99", 99000, "--"), ("p99.9", 99900, ":"))


class InputError(Exception):
    """A file that cannot be read or parsed; the message names it (FILE:LINE: ...)."""


def hist_bucket(ns):
    """The bucket of a value in ns, as lib/hist.c hist_bucket."""
    if ns < 4:
        return ns
    if ns >> HIST_LOG2_MAX:
        return HIST_BUCKETS - 1
    msb = ns.bit_length() - 1
    # 4..7 are buckets 4..7; from 8 on each power of two 2^msb gives four of 2^(msb-2)
    return (msb - 1) * 4 + (ns >> (msb - 2) & 3)


def hist_bucket_max(i):
    """The largest value bucket i holds, as lib/hist.c hist_bucket_max (the last: 2^64 - 1)."""
    msb = i // 4 + 1
    if i < 4:
        return i
    if i >= HIST_BUCKETS - 1:
        return U64_MAX
    return ((4 + i % 4 + 1) << (msb - 2)) - 1


def hist_bucket_min(i):
    """The smallest value bucket i holds."""
    return 0 if i == 0 else hist_bucket_max(i - 1) + 1


def rank(count, per_100k):
    """The rank a quantile reaches: ceil(count * q), at least 1 (hist.c hist_quantile)."""
    return max(1, (count * per_100k + 99999) // 100000)


class Series:
    """One line of the plot: exact values (fio) or bucket counts (vdisk's histogram)."""

    def __init__(self, label, path, values=None, buckets=None, max_ns=0):
        self.label = label
        self.path = path
        self.values = sorted(values) if values is not None else None
        if values is not None:
            self.buckets = {}
            for v in self.values:
                b = hist_bucket(v)
                self.buckets[b] = self.buckets.get(b, 0) + 1
            self.max_ns = self.values[-1]
        else:
            self.buckets = {b: n for b, n in buckets.items() if n}
            # a quantile is never above the largest value counted, nor above its bucket's top
            self.max_ns = min(max_ns, hist_bucket_max(max(self.buckets)))
        self.count = sum(self.buckets.values())
        self.source = "fio log" if values is not None else "vdisk histogram"

    def quantile(self, per_100k):
        """The value at quantile per_100k, in ns (nearest rank; for buckets: hist.c's)."""
        r = rank(self.count, per_100k)
        if self.values is not None:
            return self.values[r - 1]
        seen = 0
        for b in sorted(self.buckets):
            seen += self.buckets[b]
            if seen >= r:
                return min(hist_bucket_max(b), self.max_ns)
        return self.max_ns

    def cdf(self):
        """[(ns, fraction of the series at or below it)], one point per distinct value or bucket."""
        points, seen = [], 0
        if self.values is not None:
            for i, v in enumerate(self.values):
                if i + 1 == len(self.values) or self.values[i + 1] != v:
                    points.append((v, (i + 1) / self.count))
            return points
        for b in sorted(self.buckets):
            seen += self.buckets[b]
            points.append((min(hist_bucket_max(b), self.max_ns), seen / self.count))
        return points


def parse_uint(text):
    """A non-negative decimal integer, or None."""
    return int(text) if text.isdigit() and text.isascii() else None


# fio's latency logs hold nanoseconds: fio 3.33 (Debian 12), HOWTO.rst "Log File Formats":
# "Latency log: Value is latency in nsecs" (so since fio 3.1, 2017, commit 168bb587 "doc:
# latency log unit is nsec"; fio 2.x logged microseconds). Its iolog.c flush_samples writes
# "%lu, %PRId64, %u, %llu, %u" (time ms, value, direction, block size, priority) or, with
# log_offset, the offset before the priority (which log_prio writes as 0x%04x), and stat.c
# add_lat_sample logs for the NAME_lat log the very nsec the lat_percentiles count.
def parse_fio_line(where, line):
    """The latency (ns) of one fio log line: time, value, direction, block size, ..."""
    fields = [f.strip() for f in line.split(",")]
    nums = [parse_uint(f) for f in fields[:4]]
    if len(fields) < 5 or None in nums or nums[2] > 2:
        raise InputError(f"{where}: not a fio log line (time ms, latency ns, direction 0-2, "
                         f"block size, [offset,] priority): {line!r}")
    if nums[3] == 0:
        raise InputError(f"{where}: block size 0: a windowed fio log (log_avg_msec > 0) holds "
                         f"averages, not one latency per I/O: {line!r}")
    return nums[1]


def parse_hist_line(where, line):
    """(name, buckets, max_ns) of one hist_format text; name: the prefix's last two words."""
    at = line.find("count=")
    prefix, text = line[:at].split(), line[at:]
    fields = {}
    for word in text.split():
        key, eq, value = word.partition("=")
        if not eq or key in fields:
            raise InputError(f"{where}: '{word}' is not one KEY=VALUE of a vdisk histogram: {line!r}")
        fields[key] = value
    for key in ("count", "max_ns", "buckets"):
        if key not in fields:
            raise InputError(f"{where}: no {key}= in this vdisk histogram: {line!r}")
    buckets = {}
    for item in filter(None, fields["buckets"].split(",")):
        top, colon, n = item.partition(":")
        top, n = parse_uint(top), parse_uint(n)
        if not colon or top is None or n is None:
            raise InputError(f"{where}: bucket '{item}' is not MAX:COUNT: {line!r}")
        b = hist_bucket(top) if top <= U64_MAX else -1
        if b < 0 or hist_bucket_max(b) != top:
            raise InputError(f"{where}: bucket '{item}': {top} is not the top of a bucket of "
                             f"lib/hist.c (the nearest: {hist_bucket_max(hist_bucket(min(top, U64_MAX)))})")
        if b in buckets:
            raise InputError(f"{where}: bucket '{item}' given twice: {line!r}")
        buckets[b] = n
    for key, value in fields.items():
        if key != "buckets" and parse_uint(value) is None:
            raise InputError(f"{where}: {key}={value} is not a number: {line!r}")
    count = int(fields["count"])
    if sum(buckets.values()) != count:
        raise InputError(f"{where}: the buckets hold {sum(buckets.values())} values, count={count} "
                         f"(the text cut short?): {line!r}")
    if count:
        # what vdisk computed from the same buckets must be what we compute
        s = Series("", "", buckets=buckets, max_ns=int(fields["max_ns"]))
        for name, per_100k in QUANTILES:
            key = name + "_ns"
            if key in fields and int(fields[key]) != s.quantile(per_100k):
                raise InputError(f"{where}: {key}={fields[key]}, but its buckets give "
                                 f"{s.quantile(per_100k)}: {line!r}")
    return " ".join(prefix[-2:]), buckets, int(fields["max_ns"])


def read_series(label, path):
    """The series LABEL of FILE path, its kind recognised from its first line (see the usage)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = [(f"{path}:{n}", line.rstrip("\r\n")) for n, line in enumerate(f, 1)]
    except OSError as e:
        raise InputError(f"{path}: {e.strerror}") from None
    lines = [(where, line) for where, line in lines if line.strip()]
    if not lines:
        raise InputError(f"{path}: no latency in it (an empty file)")
    first = lines[0][1]
    if "count=" in first:
        hists = []
        for where, line in lines:
            if "count=" not in line:
                raise InputError(f"{where}: not a vdisk histogram (no count=) in a file of them: {line!r}")
            hists.append((where,) + parse_hist_line(where, line))
        (w0, name0, buckets, max_ns), (w1, _, last, last_max) = hists[0], hists[-1]
        for where, name, _, _ in hists[1:]:
            if name != name0:
                raise InputError(f"{where}: histogram '{name}', but {w0} is '{name0}': one "
                                 f"histogram a file (readings of it, in time order)")
        if len(hists) > 1:
            for b in buckets:
                if last.get(b, 0) < buckets[b]:
                    raise InputError(f"{w1}: bucket {hist_bucket_max(b)} holds {last.get(b, 0)}, "
                                     f"fewer than {buckets[b]} at {w0}: not a later reading of "
                                     f"the same histogram")
            buckets = {b: n - buckets.get(b, 0) for b, n in last.items()}
            max_ns = last_max
        if not sum(buckets.values()):
            raise InputError(f"{w1}: no latency counted" + (f" since {w0}" if len(hists) > 1 else ""))
        return Series(label, path, buckets=buckets, max_ns=max_ns)
    values = []
    if "," in first:
        for where, line in lines:
            values.append(parse_fio_line(where, line))
    else:
        for where, line in lines:
            v = parse_uint(line.strip())
            if v is None:
                raise InputError(f"{where}: not a latency in ns (one integer a line, as the "
                                 f"file's first line): {line!r}")
            values.append(v)
    return Series(label, path, values=values)


def us(ns):
    """ns as microseconds in the CSV (ns precision)."""
    return f"{ns / 1000:.3f}"


def write_csv(path, series):
    """NAME.csv: a summary row and the CDF rows of each series."""
    with open(path, "w", encoding="utf-8", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(["series", "source", "row", "count"] + [f"{name}_us" for name, _ in QUANTILES]
                     + ["max_us", "latency_us", "fraction"])
        for s in series:
            out.writerow([s.label, s.source, "summary", s.count]
                         + [us(s.quantile(q)) for _, q in QUANTILES] + [us(s.max_ns), "", ""])
            for ns, frac in s.cdf():
                out.writerow([s.label, s.source, "cdf"] + [""] * 6 + [us(ns), f"{frac:.6f}"])


def fmt_us(ns):
    """A latency for a label, in us: 3 significant digits below 100, whole ones above."""
    v = ns / 1000
    return f"{v:.3g}" if v < 100 else f"{v:.0f}"


def nines(fraction):
    """The CDF panel's y: 0 at 0%, 1 at 90%, 2 at 99%, 3 at 99.9%."""
    return -math.log10(1 - fraction)


def write_png(path, series, title):
    """NAME.png: the histogram and the CDF side by side (see the usage)."""
    try:
        import matplotlib
    except ImportError:
        raise InputError("matplotlib is missing (Debian: apt-get install python3-matplotlib; "
                         "run this with /usr/bin/python3)") from None
    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    fig = Figure(figsize=(13, 6.5), dpi=100, layout="constrained")
    grid = fig.add_gridspec(2, 2, height_ratios=(5, 0.2 + 0.2 * len(series)))
    hist_ax = fig.add_subplot(grid[0, 0])
    cdf_ax = fig.add_subplot(grid[0, 1], sharex=hist_ax)
    legend_ax = fig.add_subplot(grid[1, :])
    legend_ax.axis("off")
    fig.suptitle(title)
    # the CDF's last step (F = 1, the maximum) goes half a nine above the deepest one drawn
    top = max(math.log10(s.count) for s in series) + 0.5
    lo = min(max(hist_bucket_min(min(s.buckets)), 1) for s in series)
    hi = max(s.max_ns for s in series)

    handles = []
    for k, s in enumerate(series):
        colour = f"C{k % 10}"
        first, last = min(s.buckets), max(s.buckets)
        edges = [max(hist_bucket_min(b), 0.5) / 1000 for b in range(first, last + 1)]
        # (the last bucket has no top: its values end at the largest one)
        edges.append((hist_bucket_max(last) if last < HIST_BUCKETS - 1 else s.max_ns) / 1000 + 0.001)
        share = [100 * s.buckets.get(b, 0) / s.count for b in range(first, last + 1)]
        hist_ax.stairs(share, edges, color=colour, linewidth=1.5)
        hist_ax.stairs(share, edges, color=colour, alpha=0.12, fill=True)
        marks = []
        for name, q, style in MARKED:
            v = s.quantile(q)
            hist_ax.axvline(v / 1000, color=colour, linestyle=style, linewidth=1, alpha=0.8)
            marks.append(f"{name} {fmt_us(v)}")
        handles.append(Line2D([], [], color=colour, linewidth=2,
                              label=f"{s.label} ({s.count} I/Os): {', '.join(marks)}, max {fmt_us(s.max_ns)} µs"))

        xs, ys = [], []
        for ns, frac in s.cdf():
            xs.append(ns / 1000)
            ys.append(top if frac >= 1 else nines(frac))
        cdf_ax.step(xs, ys, where="post", color=colour, linewidth=1.5)
        cdf_ax.plot([xs[0], xs[0]], [0, ys[0]], color=colour, linewidth=1.5)
        for j, (name, q, _) in enumerate(MARKED):
            v = s.quantile(q)
            y = nines(q / 100000)
            cdf_ax.plot([v / 1000], [y], "o", color=colour, markersize=5)
            cdf_ax.annotate(f"{name} {fmt_us(v)}", (v / 1000, y), textcoords="offset points",
                            xytext=(6, -4 - 11 * k), color=colour, fontsize=8)

    for ax in (hist_ax, cdf_ax):
        ax.set_xscale("log")
        ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("latency (µs)")
        ax.grid(True, which="major", alpha=0.3)
    hist_ax.set_xlim(lo / 1000 / 1.25, hi / 1000 * 1.6)
    hist_ax.set_ylim(bottom=0)
    hist_ax.set_ylabel("% of the I/Os in each bucket (1/4 of a power of two)")
    hist_ax.set_title("histogram", fontsize=10)
    hist_ax.legend(handles=[Line2D([], [], color="black", linestyle=style, linewidth=1, label=name)
                            for name, _, style in MARKED], fontsize=8, loc="upper right")
    legend_ax.legend(handles=handles, fontsize=9, loc="center", frameon=False)

    ticks = [(0, "0%"), (nines(0.5), "50%"), (1, "90%"), (2, "99%"), (3, "99.9%"), (4, "99.99%"),
             (5, "99.999%")]
    ticks = [(y, t) for y, t in ticks if y < top - 0.25] + [(top, "100%")]
    cdf_ax.set_yticks([y for y, _ in ticks], [t for _, t in ticks])
    # (room below 0% for the labels of the p50 points)
    cdf_ax.set_ylim(-0.15 - 0.1 * len(series), top + 0.1)
    cdf_ax.set_ylabel("I/Os at or below (nines scale)")
    cdf_ax.set_title("CDF", fontsize=10)
    fig.savefig(path)


def main(argv):
    """Parses the arguments, reads every series, writes NAME.csv then NAME.png."""
    p = argparse.ArgumentParser(prog="plot-latency.py", description=__doc__.split("\n")[0],
                                usage="%(prog)s --out DIR [--name NAME] [--title TEXT] LABEL=FILE...",
                                epilog="\n".join(__doc__.split("\n")[3:]),
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, metavar="DIR", help="directory for NAME.png and NAME.csv")
    p.add_argument("--name", default="latency", help="file name stem (default: latency)")
    p.add_argument("--title", help="the plot's title (default: NAME)")
    p.add_argument("series", nargs="+", metavar="LABEL=FILE", help="a series (see below)")
    args = p.parse_args(argv)
    specs = []
    for spec in args.series:
        label, eq, path = spec.partition("=")
        if not eq or not label or not path:
            p.error(f"'{spec}' is not LABEL=FILE")
        specs.append((label, path))
    if "/" in args.name or not args.name:
        p.error(f"--name '{args.name}' must be a file name, not a path")
    try:
        series = [read_series(label, path) for label, path in specs]
        os.makedirs(args.out, exist_ok=True)
        stem = os.path.join(args.out, args.name)
        write_csv(stem + ".csv", series)
        write_png(stem + ".png", series, args.title or args.name)
    except (InputError, OSError) as e:
        print(f"plot-latency: {e}", file=sys.stderr)
        return 1
    print(f"plot-latency: {stem}.png {stem}.csv")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
