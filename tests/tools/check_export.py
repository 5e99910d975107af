#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Checks what `stallscope export` wrote, and summarises it for the tests.

  check_export.py proto DECODED.txt   the text `protoc --decode=perfetto.protos.Trace
                                      perfetto_subset.proto` printed
  check_export.py json OUT.json       the Chrome JSON export
  check_export.py compare P.json J.json   the two summaries hold the same events

proto and json print a summary (JSON, one object) on stdout and exit 0, or
print one line per problem on stderr and exit 1.  The proto checks:

  - no unknown (numbered) field anywhere: everything is in the schema subset
  - one sequence; its first packet clears the incremental state; events
    need it and use only names interned on it since the last clear; every
    timestamped event is on CLOCK_MONOTONIC (timestamp_clock_id 3, here or
    in the sequence's defaults), and a clock snapshot makes MONOTONIC the
    trace's clock
  - every track an event uses, and every parent, is declared first
  - slices nest: every end closes a begin on the same track, and nothing
    is left open at the end
  - counter values only on counter tracks, and counter tracks hold nothing else
  - timestamps never go back on a track
  - every flow id appears exactly twice: once starting, once ending, the
    start no later than the end

The summary: tracks (name, kind, tid), per track the slices and instants by
category, slices and instants per worker, the stall slices (track, name,
duration, annotations), the flows (from/to track and event name).
"""
import collections
import json
import re
import sys

errors = []


def err(msg):
    if len(errors) < 50:
        errors.append(msg)


# ---- protoc's text format -------------------------------------------------

TOKEN = re.compile(r'\s*(?:(\})|([A-Za-z_][A-Za-z0-9_]*|\d+)\s*(\{|:\s*'
                   r'("(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|[^\s{}]+)))')


def unescape(s):
    out = bytearray()
    i = 0
    b = s.encode('latin-1', 'backslashreplace')
    while i < len(b):
        c = b[i]
        if c != 0x5c:
            out.append(c)
            i += 1
            continue
        n = chr(b[i + 1])
        if n in '01234567':
            j = i + 1
            while j < len(b) and j < i + 4 and chr(b[j]) in '01234567':
                j += 1
            out.append(int(b[i + 1:j], 8))
            i = j
            continue
        out.append({'n': 10, 't': 9, 'r': 13}.get(n, ord(n)))
        i += 2
    return out.decode('utf-8', 'replace')


def parse_text(text):
    """Nested dicts: field -> list of values (a dict for a message)."""
    root = collections.defaultdict(list)
    stack = [root]
    pos = 0
    while True:
        m = TOKEN.match(text, pos)
        if not m:
            if text[pos:].strip():
                raise ValueError('cannot parse at: %r' % text[pos:pos + 60])
            break
        pos = m.end()
        if m.group(1):
            stack.pop()
            continue
        name = m.group(2)
        if name.isdigit():
            err('unknown field %s (not in the schema subset)' % name)
        if m.group(3) == '{':
            child = collections.defaultdict(list)
            stack[-1][name].append(child)
            stack.append(child)
        else:
            v = m.group(4)
            if v[0] in '"\'':
                v = unescape(v[1:-1])
            elif re.fullmatch(r'-?\d+', v):
                v = int(v)
            stack[-1][name].append(v)
    return root


def one(msg, field, default=None):
    v = msg.get(field)
    return v[0] if v else default


# ---- proto ------------------------------------------------------------------

def check_proto(path):
    with open(path, encoding='utf-8', errors='replace') as f:
        trace = parse_text(f.read())
    tracks = {}          # uuid -> {name, kind, tid, parent}
    stacks = collections.defaultdict(list)
    last_ts = {}
    flows = collections.defaultdict(list)   # id -> [(kind, ts, track, name)]
    interned = {}        # table -> {iid: name}
    cleared = False
    seq_ids = set()
    default_clock = None
    primary_clock = None
    by_cat = collections.defaultdict(collections.Counter)
    stalls = []
    counters = collections.defaultdict(list)
    resets = 0

    for n, p in enumerate(trace['packet']):
        seq = one(p, 'trusted_packet_sequence_id')
        if 'clock_snapshot' in p:
            snap = p['clock_snapshot'][0]
            primary_clock = one(snap, 'primary_trace_clock')
            if not any(one(c, 'clock_id') == 3 for c in snap['clocks']):
                err('packet %d: the clock snapshot has no MONOTONIC clock' % n)
            continue
        if seq is None:
            err('packet %d: no trusted_packet_sequence_id' % n)
            continue
        seq_ids.add(seq)
        flags = one(p, 'sequence_flags', 0)
        if flags & 1:
            resets += 1
            cleared = True
            interned = {'event_names': {}, 'event_categories': {},
                        'debug_annotation_names': {}}
            default_clock = None
        if 'trace_packet_defaults' in p:
            if not flags & 1:
                err('packet %d: defaults without clearing the state' % n)
            default_clock = one(p['trace_packet_defaults'][0], 'timestamp_clock_id')
        if 'interned_data' in p:
            if not cleared:
                err('packet %d: interned data before the state was cleared' % n)
            for table, entries in p['interned_data'][0].items():
                for e in entries:
                    iid, name = one(e, 'iid'), one(e, 'name')
                    if iid in interned[table]:
                        err('packet %d: %s iid %d interned twice' % (n, table, iid))
                    interned[table][iid] = name
        if 'track_descriptor' in p:
            d = p['track_descriptor'][0]
            uuid = one(d, 'uuid')
            parent = one(d, 'parent_uuid')
            if parent is not None and parent not in tracks:
                err('packet %d: track %d has an undeclared parent' % (n, uuid))
            kind = ('process' if 'process' in d else 'thread' if 'thread' in d
                    else 'counter' if 'counter' in d else 'track')
            th = one(d, 'thread', {})
            name = one(d, 'name') or one(one(d, 'process', {}), 'process_name', '')
            tid = one(th, 'tid')
            new = {'name': name, 'kind': kind, 'parent': parent, 'tid': tid,
                   'pid': one(th, 'pid')}
            if uuid in tracks:
                # Declared again: only its name may change.
                old = dict(tracks[uuid], name=name)
                if old != new:
                    err('packet %d: track %d declared again differently' % (n, uuid))
            elif tid is not None and any(t['tid'] == tid for t in tracks.values()):
                err('packet %d: a second thread track for tid %d' % (n, tid))
            tracks[uuid] = new
        if 'track_event' not in p:
            continue
        e = p['track_event'][0]
        if not flags & 2:
            err('packet %d: an event without SEQ_NEEDS_INCREMENTAL_STATE' % n)
        if not cleared:
            err('packet %d: an event before the state was cleared' % n)
            continue
        ts = one(p, 'timestamp')
        clock = one(p, 'timestamp_clock_id', default_clock)
        if ts is None or clock != 3:
            err('packet %d: an event without a MONOTONIC timestamp' % n)
            continue
        uuid = one(e, 'track_uuid')
        if uuid not in tracks:
            err('packet %d: event on undeclared track %s' % (n, uuid))
            continue
        tr = tracks[uuid]
        if ts < last_ts.get(uuid, 0):
            err('packet %d: time goes back on track %r: %d < %d'
                % (n, tr['name'], ts, last_ts[uuid]))
        last_ts[uuid] = ts
        typ = one(e, 'type')
        name = None
        if 'name_iid' in e:
            name = interned['event_names'].get(one(e, 'name_iid'))
            if name is None:
                err('packet %d: name iid %d not interned' % (n, one(e, 'name_iid')))
        elif 'name' in e:
            name = one(e, 'name')
        cats = [interned['event_categories'].get(i) for i in e.get('category_iids', [])]
        if None in cats:
            err('packet %d: category iid not interned' % n)
        cat = cats[0] if cats else ''
        args = {}
        for a in e.get('debug_annotations', []):
            an = interned['debug_annotation_names'].get(one(a, 'name_iid'), one(a, 'name'))
            if an is None:
                err('packet %d: annotation name not interned' % n)
            for k in ('bool_value', 'uint_value', 'int_value', 'double_value',
                      'string_value'):
                if k in a:
                    args[an] = one(a, k)
        if typ == 'TYPE_COUNTER':
            if tr['kind'] != 'counter':
                err('packet %d: a counter value on non-counter track %r' % (n, tr['name']))
            if 'counter_value' not in e and 'double_counter_value' not in e:
                err('packet %d: a counter event without a value' % n)
            counters[uuid].append(one(e, 'counter_value', one(e, 'double_counter_value')))
            continue
        if tr['kind'] == 'counter':
            err('packet %d: %s on counter track %r' % (n, typ, tr['name']))
        if typ == 'TYPE_SLICE_BEGIN':
            stacks[uuid].append((ts, name, cat, args))
            by_cat[uuid]['slice:' + cat] += 1
        elif typ == 'TYPE_SLICE_END':
            if not stacks[uuid]:
                err('packet %d: a slice end with nothing open on %r' % (n, tr['name']))
                continue
            bts, bname, bcat, bargs = stacks[uuid].pop()
            if bcat == 'stall':
                stalls.append({'track': uuid, 'name': bname,
                               'dur_ms': (ts - bts) / 1e6, 'args': bargs})
        elif typ == 'TYPE_INSTANT':
            by_cat[uuid]['instant:' + cat] += 1
        else:
            err('packet %d: unexpected event type %s' % (n, typ))
        # The slice a flow leaves from or arrives in: the event itself if
        # it is a slice, else the innermost one open around the instant.
        inner = stacks[uuid][-1][1] if stacks[uuid] else None
        for fid in e.get('flow_ids', []):
            flows[fid].append(('out', ts, uuid, name, inner))
        for fid in e.get('terminating_flow_ids', []):
            flows[fid].append(('in', ts, uuid, name, inner))

    if primary_clock != 'BUILTIN_CLOCK_MONOTONIC':
        err('no clock snapshot making MONOTONIC the trace clock')
    if len(seq_ids) != 1:
        err('%d packet sequences, want 1' % len(seq_ids))
    for uuid, st in stacks.items():
        if st:
            err('%d slice(s) left open on %r' % (len(st), tracks[uuid]['name']))
    flow_list = []
    for fid, uses in flows.items():
        kinds = sorted(u[0] for u in uses)
        if kinds != ['in', 'out']:
            err('flow %d used %s, want one start and one end' % (fid, kinds))
            continue
        src = next(u for u in uses if u[0] == 'out')
        dst = next(u for u in uses if u[0] == 'in')
        if src[1] > dst[1]:
            err('flow %d ends (%d) before it starts (%d)' % (fid, dst[1], src[1]))
        flow_list.append({'from_track': tracks[src[2]]['name'], 'from': src[3],
                          'from_within': src[4], 'to_track': tracks[dst[2]]['name'],
                          'to': dst[3], 'id': fid})
    # Tracks by their final names (a worker's track may be renamed).
    name = {u: t['name'] for u, t in tracks.items()}
    for x in stalls:
        x['track'] = name[x['track']]
    by_cat = {name[u]: c for u, c in by_cat.items()}
    counters = {name[u]: v for u, v in counters.items()}
    out = summary(tracks.values(), by_cat, stalls, flow_list, counters)
    out['incremental_state_clears'] = resets
    return out


def summary(tracks, by_cat, stalls, flows, counters):
    per_worker = {}
    for t in tracks:
        m = re.match(r'worker (\d+)\b', t['name'] or '')
        if m and t['kind'] in ('thread', 'track'):
            c = by_cat.get(t['name'], {})
            per_worker[m.group(1)] = {
                'slices': sum(v for k, v in c.items() if k.startswith('slice:')),
                'instants': sum(v for k, v in c.items() if k.startswith('instant:'))}
    return {'tracks': sorted([{'name': t['name'], 'kind': t['kind'], 'tid': t.get('tid')}
                              for t in tracks], key=lambda t: t['name'] or ''),
            'events': {k: dict(v) for k, v in by_cat.items()},
            'per_worker': per_worker, 'stalls': stalls, 'flows': flows,
            'counters': {k: v for k, v in counters.items()}}


# ---- JSON -------------------------------------------------------------------

SLICE_CATS = {'poll', 'running', 'search', 'park', 'offcpu', 'syscall', 'stall', 'lost'}


def check_json(path):
    with open(path, encoding='utf-8') as f:
        doc = json.load(f)
    events = doc['traceEvents'] if isinstance(doc, dict) else doc
    names = {}
    kinds = {}
    by_cat = collections.defaultdict(collections.Counter)
    stalls = []
    flows = collections.defaultdict(list)
    counters = collections.defaultdict(list)
    for ev in events:
        if ev.get('ph') == 'M' and ev.get('name') == 'thread_name':
            names[(ev['pid'], ev['tid'])] = ev['args']['name']
    for i, ev in enumerate(events):
        ph = ev.get('ph')
        key = (ev.get('pid'), ev.get('tid'))
        track = names.get(key)
        for k in ('ts', 'pid', 'tid'):
            if ph in ('X', 'i', 'C') and not isinstance(ev.get(k), (int, float)):
                err('event %d: no numeric %s' % (i, k))
        if ph == 'C':
            if len(ev.get('args', {})) != 1:
                err('event %d: a counter with %d series' % (i, len(ev.get('args', {}))))
            counters[ev['name']].append(next(iter(ev['args'].values()), None))
            continue
        if ph not in ('X', 'i'):
            continue
        if track is None:
            err('event %d on an unnamed thread %s' % (i, key))
            continue
        kinds[track] = 'thread' if key[1] < 1000000000 else 'track'
        cat = ev.get('cat', '')
        if ph == 'X' and ev.get('dur', -1) < 0:
            err('event %d: a slice without a duration' % i)
        # A flow's end point is a zero-length slice; the category says
        # whether it stands for a slice or an instant.
        kind = 'slice' if ph == 'X' and cat in SLICE_CATS else 'instant'
        by_cat[track][kind + ':' + cat] += 1
        if cat == 'stall':
            stalls.append({'track': track, 'name': ev['name'],
                           'dur_ms': ev['dur'] / 1e3, 'args': ev.get('args', {})})
        if 'bind_id' in ev:
            d = 'out' if ev.get('flow_out') else 'in' if ev.get('flow_in') else '?'
            flows[ev['bind_id']].append((d, ev['ts'], track, ev['name']))
    flow_list = []
    for fid, uses in flows.items():
        kinds_ = sorted(u[0] for u in uses)
        if kinds_ != ['in', 'out']:
            err('flow %s used %s, want one start and one end' % (fid, kinds_))
            continue
        src = next(u for u in uses if u[0] == 'out')
        dst = next(u for u in uses if u[0] == 'in')
        flow_list.append({'from_track': src[2], 'from': src[3],
                          'to_track': dst[2], 'to': dst[3], 'id': fid})
    tracks = [{'name': n, 'kind': kinds.get(n, 'thread'), 'tid': k[1]}
              for k, n in names.items()]
    return summary(tracks, by_cat, stalls, flow_list, counters)


def compare(pf, jf):
    with open(pf) as f:
        p = json.load(f)
    with open(jf) as f:
        j = json.load(f)
    if p['per_worker'] != j['per_worker']:
        err('slices per worker differ: perfetto %s, json %s' % (p['per_worker'], j['per_worker']))
    if p['events'] != j['events']:
        for t in sorted(set(p['events']) | set(j['events'])):
            if p['events'].get(t) != j['events'].get(t):
                err('track %r: perfetto %s, json %s' % (t, p['events'].get(t), j['events'].get(t)))
    if p['counters'] != j['counters']:
        for t in sorted(set(p['counters']) | set(j['counters'])):
            if p['counters'].get(t) != j['counters'].get(t):
                err('counter %r: perfetto %s, json %s' % (t, p['counters'].get(t),
                                                         j['counters'].get(t)))
    if len(p['flows']) != len(j['flows']):
        err('flows: perfetto %d, json %d' % (len(p['flows']), len(j['flows'])))
    if len(p['stalls']) != len(j['stalls']):
        err('stalls: perfetto %d, json %d' % (len(p['stalls']), len(j['stalls'])))
    return {'per_worker': p['per_worker'], 'flows': len(p['flows']), 'stalls': len(p['stalls'])}


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ('proto', 'json', 'compare'):
        sys.stderr.write(__doc__)
        return 2
    try:
        if sys.argv[1] == 'proto':
            out = check_proto(sys.argv[2])
        elif sys.argv[1] == 'json':
            out = check_json(sys.argv[2])
        else:
            out = compare(sys.argv[2], sys.argv[3])
    except (ValueError, KeyError, OSError, IndexError) as e:
        err('%s: %s' % (type(e).__name__, e))
        out = None
    if errors:
        for e in errors:
            sys.stderr.write(e + '\n')
        return 1
    json.dump(out, sys.stdout, sort_keys=True)
    sys.stdout.write('\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
