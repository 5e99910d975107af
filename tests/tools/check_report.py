#!/usr/bin/env python3
"""`stallscope report --json` checked: its shape, then expectation lines.

    check_report.py eval EXPECT-FILE < REPORT-JSON   "ok", or one reason a line
    check_report.py count MS < REPORT-JSON           detections lasting >= MS ms
    check_report.py list < REPORT-JSON               the detections, one a line

The shape: keys, their order and their types (docs/analyzer.md).  An
expectation line (tests/scenario/analyze.sh, tests/golden/*.txt):

    detections=1                          how many detections in all
    detections=1 kind=stuck_lifo task=2   how many match every NAME OP VALUE
    delay lifo_pinned>=190ms              delay_by_cause.lifo_pinned
    lost_events=3                         any top-level key

OP is = != >= <= > <; VALUE a number (ns-valued keys take ns, us, ms or s
suffixes; V±T or V+-T is a tolerance), true/false, or a string.
duration_ms is duration_ns in ms.
"""
import json
import re
import sys

TOP = ["duration_ns", "workers", "events", "lost_events", "partial", "readiness",
       "wasted_worker_ns", "delay_by_cause", "detections"]
CAUSES = ["all_busy", "lifo_pinned", "driver_starved", "inject_lag", "kernel_runq"]
DKEYS = ["kind", "start_ns", "offset_ms", "duration_ns", "worker", "task", "task_name",
         "blocker_task", "blocker_name", "idle_workers", "parked_workers", "steal_ns", "sock",
         "uncertain"]
KINDS = ("stuck_lifo", "idle_but_parked", "runnable_while_parked")


class BadExpectation(Exception):
    pass


class Num(float):
    """A JSON number with a fraction, keeping how the report wrote it."""

    def __new__(cls, literal):
        n = super().__new__(cls, literal)
        n.literal = literal
        return n


def is_count(v):
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def shape(r):
    """'' or why the report is not shaped as documented."""
    if not isinstance(r, dict):
        return "not a JSON object"
    if list(r) != TOP:
        return "top-level keys are %s, want %s" % (",".join(r), ",".join(TOP))
    causes = r["delay_by_cause"]
    if not isinstance(causes, dict) or list(causes) != CAUSES:
        return "delay_by_cause keys are %s, want %s" % (
            ",".join(causes) if isinstance(causes, dict) else causes, ",".join(CAUSES))
    if not isinstance(r["detections"], list):
        return "detections is not a list"
    for k in ("partial", "readiness"):
        if not isinstance(r[k], bool):
            return "%s is %r, not a boolean" % (k, r[k])
    for k in ("duration_ns", "workers", "events", "lost_events", "wasted_worker_ns"):
        if not is_count(r[k]):
            return "%s is %r, not a count" % (k, r[k])
    for k in CAUSES:
        if not is_count(causes[k]):
            return "delay_by_cause.%s is not a count of ns" % k
    for i, d in enumerate(r["detections"]):
        if not isinstance(d, dict) or list(d) != DKEYS:
            return "detection %d has keys %s, want %s" % (
                i, ",".join(d) if isinstance(d, dict) else d, ",".join(DKEYS))
        if d["kind"] not in KINDS:
            return "detection %d has kind '%s'" % (i, d["kind"])
        for k in ("start_ns", "duration_ns", "task", "blocker_task", "idle_workers",
                  "parked_workers", "steal_ns", "sock"):
            if not is_count(d[k]):
                return "detection %d: %s is %r, not a count" % (i, k, d[k])
        if not isinstance(d["worker"], int) or isinstance(d["worker"], bool):
            return "detection %d: worker is not an integer" % i
        if not is_number(d["offset_ms"]):
            return "detection %d: offset_ms is not a number" % i
        if not isinstance(d["task_name"], str) or not isinstance(d["blocker_name"], str):
            return "detection %d: a name is not a string" % i
        if not isinstance(d["uncertain"], bool):
            return "detection %d: uncertain is not true/false" % i
    return ""


def text(v):
    """A value as the report wrote it."""
    if isinstance(v, Num):
        return v.literal
    return json.dumps(v) if not isinstance(v, str) else v


def ns(v, unit_allowed):
    """A number with its unit (ns unless unit_allowed says it may carry one)."""
    scale = 1
    if unit_allowed:
        for suffix, m in (("ns", 1), ("us", 1e3), ("ms", 1e6), ("s", 1e9)):
            if v.endswith(suffix):
                v, scale = v[: -len(suffix)], m
                break
    if not re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", v):
        raise BadExpectation
    return float(v) * scale


def parse_test(tok):
    """NAME OP VALUE[±TOL] -> (name, op, value, tol), or None."""
    m = re.match(r"([^<>=!]+)(<=|>=|!=|=|<|>)(.*)$", tok)
    if not m:
        return None
    name, op, rest = m.groups()
    tol = ""
    if "±" in rest:
        rest, tol = rest.split("±", 1)
    elif rest.find("+-") > 0:
        rest, tol = rest.split("+-", 1)
    return name, op, rest, tol


def holds(v, test, nsval=False, scale=1):
    _, op, want, tol = test
    if want in ("true", "false"):
        if not isinstance(v, bool):
            return False
        got = "true" if v else "false"
        return got == want if op == "=" else (got != want if op == "!=" else False)
    if isinstance(v, str) or not re.match(r"-?[0-9.]", want):
        if not isinstance(v, str):
            return False
        return v == want if op == "=" else (v != want if op == "!=" else False)
    if not is_number(v):
        return False
    w = ns(want, nsval)
    t = ns(tol, nsval) if tol else 0
    v = v / scale
    return {"=": lambda: w - t <= v <= w + t, "!=": lambda: v < w - t or v > w + t,
            ">=": lambda: v >= w, "<=": lambda: v <= w, ">": lambda: v > w,
            "<": lambda: v < w}[op]()


def is_ns(key):
    return key.endswith("_ns") or key.startswith("delay_by_cause.")


def dline(d):
    return ("%s worker=%s task=%s blocker_task=%s duration_ms=%.3f offset_ms=%s idle=%s "
            "parked=%s sock=%s uncertain=%s task_name='%s' blocker_name='%s'" % (
                d["kind"], d["worker"], d["task"], d["blocker_task"], d["duration_ns"] / 1e6,
                text(d["offset_ms"]), d["idle_workers"], d["parked_workers"], d["sock"],
                text(d["uncertain"]), d["task_name"], d["blocker_name"]))


def got(r):
    dets = r["detections"]
    if not dets:
        return "got no detections"
    return "got %d detection(s): %s" % (len(dets), " ".join("[%s]" % dline(d) for d in dets))


def detection_matches(d, test):
    key = test[0]
    if key == "duration_ms":
        return holds(d["duration_ns"], test, False, 1e6)
    if key not in d:
        raise BadExpectation
    return holds(d[key], test, is_ns(key))


def expect(r, line):
    """'' or why the expectation line does not hold."""
    w = line.split()
    try:
        if w[0] == "delay":
            test = parse_test(w[1]) if len(w) == 2 else None
            if not test:
                return "bad expectation '%s'" % line
            causes = r["delay_by_cause"]
            if test[0] not in causes:
                return "want %s: no key delay_by_cause.%s" % (line, test[0])
            if not holds(causes[test[0]], test, True):
                return "want %s, got %.3f ms" % (line, causes[test[0]] / 1e6)
            return ""
        first = parse_test(w[0])
        if not first:
            return "bad expectation '%s'" % line
        if first[0] == "detections":
            tests = [parse_test(t) for t in w[1:]]
            if not all(tests):
                return "bad expectation '%s'" % line
            try:
                n = sum(all(detection_matches(d, t) for t in tests) for d in r["detections"])
            except BadExpectation:
                return "bad expectation '%s' (unknown key or value)" % line
            if not holds(n, first):
                return "want %s: %d match; %s" % (line, n, got(r))
            return ""
        if len(w) != 1:
            return "bad expectation '%s'" % line
        if first[0] not in r:
            return "want %s: no key %s" % (line, first[0])
        if not holds(r[first[0]], first, is_ns(first[0])):
            return "want %s, got %s" % (line, text(r[first[0]]))
        return ""
    except BadExpectation:
        return "bad expectation '%s'" % line


def main(argv):
    if len(argv) < 2 or argv[1] not in ("eval", "count", "list") or \
            (argv[1] != "list" and len(argv) != 3):
        sys.stderr.write(__doc__)
        return 2
    try:
        r = json.loads(sys.stdin.read(), parse_float=Num)
    except ValueError as e:
        print("invalid JSON: %s" % e)
        return 0
    why = shape(r)
    if why:
        print(why)
        return 0
    if argv[1] == "count":
        print(sum(d["duration_ns"] >= float(argv[2]) * 1e6 for d in r["detections"]))
    elif argv[1] == "list":
        for d in r["detections"]:
            print(dline(d))
    else:
        with open(argv[2]) as f:
            lines = [line.rstrip("\n") for line in f]
            fails = [why for why in (expect(r, line) for line in lines if line.strip()) if why]
        print("\n".join(fails) if fails else "ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
