#!/usr/bin/python3
"""fio's latencies and vdisk's histograms of each job, cut from a capture of a board's console.

Usage: tools/fio/extract.py CONSOLE-LOG OUTDIR

CONSOLE-LOG is what the board's serial console printed while tools/fio/guest-run.sh ran fio
jobs in a guest (picocom --logfile, screen -L, ...; carriage returns and line prefixes such as
Xen's "(XEN) DOM1: " do not matter):
  layout A  dom0's console, where tools/fio/dom0-run.sh passed the guest's console on and
            printed vdisk's histograms at the guest's marks ("FIO-HIST: JOB start|end ...")
  layout B  Xen's console: the guest's lines and vdisk's own "latency:" lines, which vdisk
            prints every latency_period= seconds (a text too long for one line goes on in
            "latency: KEY +REST" lines, joined here)

Writes into OUTDIR (made if missing), per job JOB (a "FIO-MARK: JOB start" line):
  JOB.lat                  fio's total latency of each of JOB's I/Os in ns, one a line, in the
                           order fio logged them ("FIO-LAT: JOB ..." lines; their number must be
                           the one "FIO-LAT-END: JOB COUNT" gives)
  JOB.DEVICE.KIND.hist     vdisk's histogram KIND (service: a request's service time; ioreq: a
                           register access's turnaround) of DEVICE (domFE-DEVID), read before
                           and after the job, for each device whose count grew meanwhile.
                           Layout A: the readings at the job's start and end marks. Layout B:
                           the last reading before the job's start mark and the first after
                           its end mark, neither beyond the marks of the jobs around it (with
                           FIO_GAP longer than latency_period there is one).
Then prints, per job, the tools/plot-latency.py command that plots them together (fio's
latency against vdisk's service time of the job's device).

Exit status 0; 1 when a job's data is missing or broken (each problem is printed, what could
be cut is still written); 2 for a usage error.
"""
import os
import re
import sys

MARK = re.compile(r"FIO-MARK: (\S+) (start|end)\s*$")
LAT = re.compile(r"FIO-LAT: (\S+)((?: [0-9]+)+)\s*$")
LAT_END = re.compile(r"FIO-LAT-END: (\S+) ([0-9]+)\s*$")
FIO_ERROR = re.compile(r"(FIO-ERROR: .*)$")
# layout A: dom0-run.sh's prefix before a `vdisk-dom0 latency` line (KEY count=...)
HIST = re.compile(r"FIO-HIST: (\S+) (start|end) (.*?) ?(count=.*)$")
# layout B: vdisk's console (boot/latency.c, lib/log.c log_long): KEY is "upcall" or
# "domFE-DEVID service|ioreq"; a continuation is "KEY +REST"
VDISK = re.compile(r"latency: (upcall|\S+ (?:service|ioreq)) (\+?)(.*)$")


class Reading:
    """One histogram text of KEY seen at a line of the log."""

    def __init__(self, key, line, text):
        self.key, self.line, self.text = key, line, text

    def count(self):
        """count= of the text, or None when the text does not hold together (cut short)."""
        fields = dict(w.partition("=")[::2] for w in self.text.split() if "=" in w)
        if not fields.get("count", "").isdigit() or "buckets" not in fields:
            return None
        total = 0
        for item in filter(None, fields["buckets"].split(",")):
            n = item.partition(":")[2]
            if not n.isdigit():
                return None
            total += int(n)
        return int(fields["count"]) if total == int(fields["count"]) else None


def parse(lines):
    """Marks, latencies and readings of the log: a dict of what each job and key has."""
    marks = {}  # job -> {"start": line, "end": line}
    order = []  # jobs in the order of their start marks
    lat = {}  # job -> [ns]
    lat_end = {}  # job -> count
    marked = {}  # (job, start|end) -> [Reading] (layout A)
    readings = {}  # key -> [Reading] (layout B), in log order
    errors = []
    for n, raw in enumerate(lines, 1):
        line = raw.replace("\r", "").rstrip()
        m = MARK.search(line)
        if m:
            job, which = m.groups()
            if which == "start" and job not in marks:
                order.append(job)
            marks.setdefault(job, {})[which] = n
            continue
        m = LAT.search(line)
        if m:
            lat.setdefault(m.group(1), []).extend(int(v) for v in m.group(2).split())
            continue
        m = LAT_END.search(line)
        if m:
            lat_end[m.group(1)] = int(m.group(2))
            continue
        m = FIO_ERROR.search(line)
        if m:
            errors.append(f"line {n}: the guest says {m.group(1)}")
            continue
        m = HIST.search(line)
        if m:
            job, which, key, text = m.groups()
            marked.setdefault((job, which), []).append(Reading(key, n, text))
            continue
        m = VDISK.search(line)
        if m:
            key, more, text = m.groups()
            had = readings.get(key)
            if more:
                # the rest of the last text of KEY (lines of others may come between)
                if had:
                    had[-1].text += text
            elif text.startswith("count="):
                readings.setdefault(key, []).append(Reading(key, n, text))
    return {"marks": marks, "order": order, "lat": lat, "lat_end": lat_end, "marked": marked,
            "readings": readings, "errors": errors}


def pairs_layout_a(log, job):
    """{key: (before, after)} from dom0-run.sh's readings at JOB's marks."""
    before = {r.key: r for r in log["marked"].get((job, "start"), [])}
    after = {r.key: r for r in log["marked"].get((job, "end"), [])}
    return {k: (before[k], after[k]) for k in before if k in after}, []


def pairs_layout_b(log, job):
    """{key: (before, after)} from vdisk's periodic readings around JOB's marks."""
    order, marks = log["order"], log["marks"]
    i = order.index(job)
    lo = marks[order[i - 1]].get("end", 0) if i > 0 else 0
    hi = marks[order[i + 1]]["start"] if i + 1 < len(order) else float("inf")
    start, end = marks[job]["start"], marks[job]["end"]
    pairs, problems = {}, []
    for key, rs in log["readings"].items():
        rs = [r for r in rs if r.count() is not None]
        before = [r for r in rs if lo < r.line < start]
        after = [r for r in rs if end < r.line < hi]
        if before and after:
            pairs[key] = (before[-1], after[0])
        elif key != "upcall" and any(r.line < start for r in rs):
            problems.append(f"{job}: no complete reading of vdisk's '{key}' "
                            f"{'before the job' if not before else 'after it'} (lines "
                            f"{lo + 1}-{start - 1} and {end + 1}-...): latency_period= must be "
                            f"shorter than the guest's FIO_GAP")
    return pairs, problems


def extract(log, outdir):
    """Writes the files; returns (problems, [(job, lat file or None, [hist files])])."""
    problems = list(log["errors"])
    done = []
    if not log["order"]:
        problems.append("no 'FIO-MARK: JOB start' line: not a console of tools/fio/guest-run.sh")
    os.makedirs(outdir, exist_ok=True)
    for job in log["order"]:
        if "end" not in log["marks"][job]:
            problems.append(f"{job}: no 'FIO-MARK: {job} end' line (the job did not finish?)")
            continue
        lat_file = None
        values, want = log["lat"].get(job, []), log["lat_end"].get(job)
        if want is None:
            problems.append(f"{job}: no 'FIO-LAT-END: {job} COUNT' line")
        elif len(values) != want:
            problems.append(f"{job}: {len(values)} latencies in FIO-LAT lines, FIO-LAT-END says "
                            f"{want} (a line broken by other output?)")
        elif want:
            lat_file = os.path.join(outdir, f"{job}.lat")
            with open(lat_file, "w", encoding="utf-8") as f:
                f.write("".join(f"{v}\n" for v in values))
        if any(k[0] == job for k in log["marked"]):
            pairs, more = pairs_layout_a(log, job)
        else:
            pairs, more = pairs_layout_b(log, job)
        problems += more
        hists = []
        for key, (before, after) in sorted(pairs.items()):
            words = key.split()
            if len(words) != 2 or after.count() is None or before.count() is None or \
                    after.count() <= before.count():
                continue
            path = os.path.join(outdir, f"{job}.{words[0]}.{words[1]}.hist")
            with open(path, "w", encoding="utf-8") as f:
                f.write(f"{key} {before.text}\n{key} {after.text}\n")
            hists.append(path)
        if not hists:
            problems.append(f"{job}: no histogram of vdisk's that grew during the job "
                            "(layout A: run the guest with tools/fio/dom0-run.sh; layout B: "
                            "vdisk's latency_period=)")
        done.append((job, lat_file, hists))
    return problems, done


def quote(s):
    return "'" + s.replace("'", "'\\''") + "'"


def main(argv):
    if len(argv) != 2 or argv[0] in ("-h", "--help"):
        sys.stderr.write(__doc__)
        return 2
    try:
        with open(argv[0], encoding="utf-8", errors="replace") as f:
            lines = f.read().split("\n")
    except OSError as e:
        print(f"extract: {argv[0]}: {e.strerror}", file=sys.stderr)
        return 1
    problems, done = extract(parse(lines), argv[1])
    plot = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                        "plot-latency.py")
    for job, lat_file, hists in done:
        print(f"{job}: {lat_file or 'no fio latencies'}; {', '.join(hists) or 'no vdisk histogram'}")
        series = [f"fio in the guest, total latency={lat_file}"] if lat_file else []
        series += [f"vdisk {os.path.basename(h).split('.')[1]}, service time={h}"
                   for h in hists if h.endswith(".service.hist")]
        if series:
            print("  " + " ".join([os.path.relpath(plot), "--out", quote(argv[1]), "--name", job]
                                  + [quote(s) for s in series]))
    for p in problems:
        print(f"extract: {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
