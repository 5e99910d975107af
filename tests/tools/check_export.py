#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Checks what `stallscope export` wrote the way Perfetto imports it, and
summarises it for the tests.

  check_export.py proto DECODED.txt   the text `protoc --decode=perfetto.protos.Trace
                                      perfetto_subset.proto` printed
  check_export.py json OUT.json       the Chrome JSON export
  check_export.py compare P.json J.json   the two summaries hold the same events

proto and json print a summary (JSON, one object) on stdout and exit 0, or
print one line per problem on stderr and exit 1.

This is a model of Perfetto's importer (trace_processor, v58) and of its
UI's track tree, written from their sources (google/perfetto: the file and
function each check models is named where it is), not a copy of them.
trace_processor itself can't run here (no binary, no npm package ships it
or the UI's wasm engine).  A check fails on anything trace_processor would
drop, place elsewhere than the exporter meant, or count in an import-error
stat, and on anything the UI would show differently from docs/export.md
(order, names).  The stages, as trace_processor runs them:

  1. tokenizing, in file order (proto_trace_reader.cc, track_event_tokenizer.cc,
     json_trace_tokenizer.cc): sequences, incremental state and interning,
     timestamps and clocks, track descriptors reserved;
  2. the sorter (sorter/trace_sorter.h): every timestamped packet or event
     by (time, file order); JSON with X events by (time, E first, longer X
     first, file order);
  3. parsing, in sorted order (track_event_parser.cc,
     track_event_event_importer.h, json_trace_parser.cc, slice_tracker.cc,
     flow_tracker.cc): tracks resolved, per-track slice stacks, flows,
     counters;
  4. the UI (ui/src/plugins/dev.perfetto.TrackEvent, .ProcessThreadGroups,
     .TraceProcessorTrack; stdlib viz/summary/track_event.sql): which
     tracks show, where, in what order, under what name.

The summary: tracks (name, kind, key), per track the slices and instants by
category, slices and instants per worker, the stall slices (track, name,
duration, annotations), the flows (from/to track and event name), the
counters, and `ui`: the track tree as the UI lists it ("  " per level).
"""
import collections
import json
import math
import re
import sys

from perfetto_model import (ORDERINGS, Flows, ProtoTracks, Slices, err, errors,
                            json_us_to_ns, sort_key_default, within)

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


# ---- proto -------------------------------------------------------------------

def tokenize_proto(trace):
    """Stage 1, in file order (proto_trace_reader.cc ParsePacket and
    TimestampTokenizeAndPushToSorter, track_event_tokenizer.cc).  Returns
    the tracks, what goes to the sorter ((time, file order, kind, data)),
    and how often the incremental state was cleared."""
    # A sequence's incremental state is invalid until a packet clears it;
    # clearing starts a new generation: interned data and defaults gone,
    # a thread descriptor kept (packet_sequence_state_generation.cc).
    seqs = {}
    tracks = ProtoTracks()
    primary_clock = None
    has_monotonic = False
    latest_ts = 0
    pushed = []
    resets = 0
    for n, p in enumerate(trace['packet']):
        if 'clock_snapshot' in p:
            snap = p['clock_snapshot'][0]
            primary_clock = one(snap, 'primary_trace_clock')
            has_monotonic |= any(one(c, 'clock_id') == 3 for c in snap['clocks'])
            continue
        seq_id = one(p, 'trusted_packet_sequence_id')
        if seq_id is None:
            err('packet %d: no trusted_packet_sequence_id (track_event_missing_sequence_id)' % n)
            continue
        seq = seqs.setdefault(seq_id, {'valid': False, 'interned': None,
                                       'defaults_clock': None, 'thread': None})
        flags = one(p, 'sequence_flags', 0)
        if flags & 1 or one(p, 'incremental_state_cleared'):
            resets += 1
            seq['valid'] = True
            seq['interned'] = {'event_names': {}, 'event_categories': {},
                               'debug_annotation_names': {}}
            seq['defaults_clock'] = None
        if 'trace_packet_defaults' in p:
            seq['defaults_clock'] = one(p['trace_packet_defaults'][0], 'timestamp_clock_id')
        if 'interned_data' in p:
            if seq['interned'] is None:
                err('packet %d: interned data before the state was cleared' % n)
            else:
                for table, entries in p['interned_data'][0].items():
                    for e in entries:
                        iid, name = one(e, 'iid'), one(e, 'name')
                        if iid in seq['interned'][table]:
                            err('packet %d: %s iid %d interned twice' % (n, table, iid))
                        seq['interned'][table][iid] = name
        if flags & 2 and not seq['valid']:
            err('packet %d: needs incremental state, which is invalid: skipped '
                '(packet_skipped_seq_needs_incremental_state_invalid)' % n)
            continue
        # The packet's clock, else the sequence's default; a packet with
        # no timestamp gets the latest seen so far.  MONOTONIC is the
        # trace clock here, so its times are the trace's as they are.
        if 'timestamp' in p:
            ts = one(p, 'timestamp')
            clock = one(p, 'timestamp_clock_id', seq['defaults_clock'])
            if clock != 3:
                err('packet %d: timestamp on clock %s, not MONOTONIC' % (n, clock))
        else:
            ts = latest_ts
        latest_ts = max(latest_ts, ts)
        if 'track_descriptor' in p:
            d = p['track_descriptor'][0]
            if one(d, 'uuid') is None:
                err('packet %d: a track descriptor without uuid '
                    '(track_descriptor_missing_uuid)' % n)
                continue
            th, pr = one(d, 'thread'), one(d, 'process')
            r = {'uuid': one(d, 'uuid'), 'parent': one(d, 'parent_uuid', 0),
                 'name': one(d, 'name', one(d, 'static_name')),
                 'description': one(d, 'description'),
                 'ordering': ORDERINGS.get(one(d, 'child_ordering', 'UNKNOWN')),
                 'rank': one(d, 'sibling_order_rank'), 'counter': 'counter' in d,
                 'pid': one(th, 'pid') if th else one(pr, 'pid') if pr else None,
                 'tid': one(th, 'tid') if th else None,
                 'thread_name': one(th, 'thread_name') if th else None,
                 'process_name': one(pr, 'process_name') if pr else None}
            if th is not None and r['tid'] is None:
                err('packet %d: thread without tid (track_descriptor_thread_missing_pid_tid)' % n)
            if th is not None and seq['valid']:
                # TokenizeThreadDescriptor: the sequence's thread.
                seq['thread'] = (r['pid'], r['tid'])
            tracks.reserve(n, r)
            pushed.append((ts, len(pushed), 'descriptor', r['uuid']))
        if 'track_event' in p:
            e = tokenize_event(n, p, seq)
            if e is not None:
                pushed.append((ts, len(pushed), 'event', e))
    if not has_monotonic or primary_clock != 'BUILTIN_CLOCK_MONOTONIC':
        err('no clock snapshot making MONOTONIC the trace clock')
    if len(seqs) != 1:
        err('%d packet sequences, want 1' % len(seqs))
    return tracks, pushed, resets


def tokenize_event(n, p, seq):
    """A TrackEvent's names looked up in its sequence's interned data as
    it is at this packet (TrackEventTokenizer::TokenizeTrackEventPacket;
    the names are read in the event importer, from the same generation)."""
    e = p['track_event'][0]
    if not one(p, 'sequence_flags', 0) & 2:
        err('packet %d: interned names without SEQ_NEEDS_INCREMENTAL_STATE' % n)
    if 'timestamp' not in p:
        err('packet %d: an event without a timestamp (track_event_missing_timestamp)' % n)
        return None
    interned = seq['interned'] or {}
    name = None
    if 'name_iid' in e:
        name = interned.get('event_names', {}).get(one(e, 'name_iid'))
        if name is None:
            err('packet %d: name iid %d not interned on this sequence since its '
                'last clear: shown as no name' % (n, one(e, 'name_iid')))
    elif 'name' in e:
        name = one(e, 'name')
    cats = [interned.get('event_categories', {}).get(i) for i in e.get('category_iids', [])]
    if None in cats:
        err('packet %d: category iid not interned: shown as unknown(iid)' % n)
    args = {}
    for a in e.get('debug_annotations', []):
        an = interned.get('debug_annotation_names', {}).get(one(a, 'name_iid'), one(a, 'name'))
        if an is None:
            err('packet %d: annotation name not interned' % n)
        for k in ('bool_value', 'uint_value', 'int_value', 'double_value', 'string_value'):
            if k in a:
                args[an] = one(a, k)
    typ = one(e, 'type')
    if typ == 'TYPE_COUNTER' and 'counter_value' not in e and 'double_counter_value' not in e:
        err('packet %d: a counter without a value (track_event_counter_missing_value)' % n)
        return None
    return {'n': n, 'type': typ, 'track': one(e, 'track_uuid', 0), 'name': name,
            'cat': cats[0] if cats else '', 'args': args,
            'value': one(e, 'counter_value', one(e, 'double_counter_value')),
            'flow_ids': e.get('flow_ids', []),
            'terminating_flow_ids': e.get('terminating_flow_ids', []),
            'thread': seq['thread']}


def check_proto(path):
    with open(path, encoding='utf-8', errors='replace') as f:
        trace = parse_text(f.read())
    tracks, pushed, resets = tokenize_proto(trace)
    tracks.check_honoured()
    reservations = tracks.r

    # Stage 2, the sorter (TraceSorter): time, then file order.
    pushed.sort(key=sort_key_default)

    # Stage 3, parsing in sorted order (TrackEventParser,
    # TrackEventEventImporter: slices by SliceTracker, flows by FlowTracker).
    slices = Slices()
    flows = Flows()
    counters = collections.defaultdict(list)
    first_event = {}    # uuid -> sorted position of the first event on it or below
    descriptor_at = {}  # uuid -> sorted position of its first descriptor
    data = set()
    by_cat = collections.defaultdict(collections.Counter)
    stalls = []
    passthrough = set()
    begins = collections.defaultdict(lambda: [0, 0])    # track -> [n, sum of times]
    for pos, (ts, _, kind, x) in enumerate(pushed):
        if kind == 'descriptor':
            descriptor_at.setdefault(x, pos)
            continue
        uuid = x['track']
        where = 'packet %d' % x['n']
        if uuid not in reservations:
            err('%s: event on undeclared track %s' % (where, uuid))
            continue
        chain = tracks.ancestors(uuid)
        if chain is None:
            continue
        for u in chain:
            first_event.setdefault(u, pos)
        r = reservations[uuid]
        if tracks.scope(uuid)[0][0] != 'thread' and x['thread'] is not None and \
                uuid not in passthrough:
            # ParseInitialTrackAssociation: the sequence's thread becomes
            # a legacy_event.passthrough_utid argument.
            passthrough.add(uuid)
            err('%s: a thread descriptor on the sequence gives the events of %r a '
                'misleading legacy_event.passthrough_utid' % (where, r['name']))
        typ = x['type']
        if typ == 'TYPE_COUNTER':
            # ConvertToAbsoluteCounterValue: only on a counter track.
            if not r['counter']:
                err('%s: a counter value on non-counter track %r '
                    '(track_event_counter_invalid_track_uuid)' % (where, r['name']))
            counters[uuid].append(x['value'])
            data.add(uuid)
            continue
        if r['counter']:
            err('%s: %s on counter track %r' % (where, typ, r['name']))
            continue
        if typ in ('TYPE_SLICE_BEGIN', 'TYPE_INSTANT'):
            begins[uuid][0] += 1
            begins[uuid][1] += ts
        if typ == 'TYPE_SLICE_BEGIN':
            s = slices.begin(uuid, ts, x['name'], x['cat'], what=where, args=x['args'])
            by_cat[uuid]['slice:' + x['cat']] += 1
        elif typ == 'TYPE_SLICE_END':
            # An end's annotations join its slice's.
            s = slices.end(uuid, ts, what=where)
            if s is not None:
                s['args'].update(x['args'])
            if s is not None and s['cat'] == 'stall':
                stalls.append({'track': uuid, 'name': s['name'], 'dur_ms': s['dur'] / 1e6,
                               'args': s['args']})
        elif typ == 'TYPE_INSTANT':
            s = slices.begin(uuid, ts, x['name'], x['cat'], dur=0, what=where, args=x['args'])
            by_cat[uuid]['instant:' + x['cat']] += 1
        else:
            err('%s: unexpected event type %s' % (where, typ))
            continue
        data.add(uuid)
        # MaybeParseTrackEventFlows, on the slice the event made (for an
        # end: the slice it ended).  An active id in flow_ids steps.
        for fid in x['flow_ids']:
            if fid in flows.active:
                err('%s: flow %d stepped, not begun (a second start)' % (where, fid))
            flows.begin(fid, s, where)
        for fid in x['terminating_flow_ids']:
            flows.end(fid, s, where, close=True)

    for track, s in slices.left_open():
        err('slice %r left open on %r' % (s['name'], reservations[track]['name']))
    flows.check_all_ended()
    for uuid, pos in first_event.items():
        if descriptor_at.get(uuid, pos) > pos:
            # The comment on TrackDescriptor.name: a streaming reader names
            # a track from the descriptors it met before the first event
            # on it or below it.
            err('track %r: its descriptor sorts after its first event'
                % reservations[uuid]['name'])

    # Stage 4, the UI.
    ui = tracks.ui_tree(data, first_event)

    flow_list = []
    for fid, (src, dst) in sorted(flows.done.items()):
        flow_list.append({'from_track': reservations[src['track']]['name'],
                          'from': src['name'], 'from_within': within(src),
                          'to_track': reservations[dst['track']]['name'],
                          'to': dst['name'], 'id': fid})
    name = {u: r['name'] for u, r in reservations.items()}
    for s in stalls:
        s['track'] = name[s['track']]
    rows = [track_info_proto(r, reservations) for r in reservations.values()]
    out = summary(rows, {name[u]: c for u, c in by_cat.items()}, stalls, flow_list,
                  {name[u]: v for u, v in counters.items()})
    out['incremental_state_clears'] = resets
    out['begins'] = {name[u]: v for u, v in begins.items()}
    out['ui'] = ui
    return out


def track_info_proto(r, reservations):
    """A summary row: kind, and the key the JSON export has for it: a
    thread's tid ("worker 0 (9720)", "main (9719)"), else the lane's name
    without its number (JSON pseudo-threads: "stalls: worker 0, lane")."""
    parent = reservations.get(r['parent'])
    m = re.fullmatch(r'(.*) \((\d+)\)', r['name'] or '')
    if r['counter']:
        return {'name': r['name'], 'kind': 'counter', 'key': None}
    if parent is None:
        return {'name': r['name'], 'kind': 'root', 'key': None}
    if r['ordering']:
        return {'name': r['name'], 'kind': 'group', 'key': None}
    if m and not parent['parent']:
        return {'name': r['name'], 'kind': 'track', 'key': 'tid:' + m.group(2)}
    return {'name': r['name'], 'kind': 'lane',
            'key': 'lane:' + re.sub(r' #\d+$', '', r['name'] or '')}


def summary(tracks, by_cat, stalls, flows, counters):
    per_worker = {}
    for t in tracks:
        m = re.match(r'worker (\d+)\b', t['name'] or '')
        if m and t['kind'] == 'track':
            c = by_cat.get(t['name'], {})
            w = per_worker.setdefault(m.group(1), {'slices': 0, 'instants': 0})
            w['slices'] += sum(v for k, v in c.items() if k.startswith('slice:'))
            w['instants'] += sum(v for k, v in c.items() if k.startswith('instant:'))
    return {'tracks': sorted(tracks, key=lambda t: t['name'] or ''),
            'events': {k: dict(v) for k, v in by_cat.items()},
            'per_worker': per_worker, 'stalls': stalls, 'flows': flows,
            'counters': {k: v for k, v in counters.items()}}


# ---- JSON -------------------------------------------------------------------

SLICE_CATS = {'poll', 'running', 'search', 'park', 'offcpu', 'syscall', 'stall', 'lost'}


def check_json(path):
    with open(path, encoding='utf-8') as f:
        # Numbers as written: their reading is part of what is checked.
        doc = json.load(f, parse_float=str)
    events = doc['traceEvents'] if isinstance(doc, dict) else doc
    if isinstance(doc, dict) and 'displayTimeUnit' in doc:
        err('displayTimeUnit set: Perfetto ignores it (json_display_time_unit)')

    # -- 1. tokenizing (JsonTraceTokenizer::ParseTraceEventContents) ----------
    pushed = []
    slow = False
    for i, ev in enumerate(events):
        ph = ev.get('ph')
        if not ph:
            if ev:
                err('event %d: no ph (json_tokenizer_failure)' % i)
            continue
        if 'ts' in ev:
            ts = json_us_to_ns(ev['ts'])
        elif ph == 'M':
            ts = 0
        else:
            err('event %d: no ts (json_tokenizer_failure)' % i)
            continue
        pid, tid = ev.get('pid', 0), ev.get('tid', 0)
        if not isinstance(pid, int) or not isinstance(tid, int):
            err('event %d: pid or tid not an integer' % i)
            continue
        if tid == 0 and pid != 0:
            tid = pid
        dur = json_us_to_ns(ev['dur']) if 'dur' in ev else None
        slow |= ph == 'X'
        pushed.append((ts, i, ph, ev, pid, tid, dur))

    # -- 2. the sorter: with any X event, SlowOperatorLess: at one time E
    # first, then X by longer duration, then the rest; then file order.
    def key(p):
        ts, i, ph, _, _, _, dur = p
        if not slow:
            return (ts, 0, i)
        k = -math.inf if ph == 'E' else (-(dur or 0) if ph == 'X' else 0)
        return (ts, k, i)
    pushed.sort(key=key)

    # -- 3. parsing (JsonTraceParser::ParseJsonPacket) -------------------------
    slices = Slices()
    flows = Flows()
    names = {}          # (pid, tid) -> thread name (the last wins: priority kOther)
    sort_index = {}     # (pid, tid) -> thread_sort_index
    pnames = {}
    counters = collections.defaultdict(list)
    by_cat = collections.defaultdict(collections.Counter)
    stalls = []
    data = set()
    begins = collections.defaultdict(lambda: [0, 0])    # thread -> [n, sum of times]

    for ts, i, ph, ev, pid, tid, dur in pushed:
        track = (pid, tid)
        where = 'event %d (%s %r)' % (i, ph, ev.get('name'))
        cat = ev.get('cat') or None
        name = ev.get('name') or None
        if ph == 'M':
            args = ev.get('args', {})
            if name == 'thread_name':
                names[track] = args.get('name')
            elif name == 'process_name':
                pnames[pid] = args.get('name')
            elif name == 'thread_sort_index':
                sort_index[track] = int(args.get('sort_index'))
            continue
        if ph == 'C':
            args = ev.get('args', {})
            if not args:
                err('%s: a counter with no value (json_parser_failure)' % where)
            for k, v in args.items():
                try:
                    float(v)
                except (TypeError, ValueError):
                    err('%s: counter value %r not a number' % (where, v))
                    continue
                # The track is "NAME SERIES".
                counters['%s %s' % (ev.get('name', ''), k)].append(
                    int(v) if re.fullmatch(r'-?\d+', str(v)) else float(v))
            continue
        if ph in ('B', 'X', 'i', 'I'):
            begins[track][0] += 1
            begins[track][1] += ts
        if ph == 'B':
            s = slices.begin(track, ts, name or '[No name]', cat, what=where,
                             args=ev.get('args'))
            data.add(track)
        elif ph == 'E':
            # The name and category the E carries must match; its args
            # join the slice's.
            s = slices.end(track, ts, name, cat, what=where)
            if s is not None:
                s['args'].update(ev.get('args', {}))
                kind = 'slice' if s['dur'] or s['cat'] in SLICE_CATS else 'instant'
                by_cat[track][kind + ':' + (s['cat'] or '')] += 1
                if s['cat'] == 'stall':
                    stalls.append({'track': track, 'name': s['name'],
                                   'dur_ms': s['dur'] / 1e6, 'args': s['args']})
            if 'bind_id' in ev:
                err('%s: a flow on an E is ignored' % where)
            continue
        elif ph == 'X':
            s = slices.begin(track, ts, name or '[No name]', cat, dur=dur or 0, what=where,
                             args=ev.get('args'))
            data.add(track)
        elif ph in ('i', 'I'):
            if ev.get('s', 't') != 't':
                err('%s: not a thread-scoped instant' % where)
            s = slices.begin(track, ts, name or '[No name]', cat, dur=0, what=where)
            by_cat[track]['instant:' + (cat or '')] += 1
            data.add(track)
            if 'bind_id' in ev:
                err('%s: a flow on an instant is ignored (flows bind to B and X)' % where)
            continue
        else:
            err('%s: a phase this exporter does not write' % where)
            continue
        # MaybeAddFlow (version 2): the topmost slice on the track.
        if 'bind_id' in ev:
            top = slices.topmost(track)
            if ev.get('flow_out') and ev.get('flow_in'):
                err('%s: flow %s steps' % (where, ev['bind_id']))
            elif ev.get('flow_out'):
                flows.begin(ev['bind_id'], top, where)
            elif ev.get('flow_in'):
                flows.end(ev['bind_id'], top, where, close=False)
            else:
                err('%s: flow without direction (flow_without_direction)' % where)

    for track, s in slices.left_open():
        err('slice %r left open on thread %s' % (s['name'], track))
    flows.check_all_ended()
    for track in data:
        if track not in names:
            err('events on thread %s, which has no name' % (track,))

    # -- 4. the UI: a process group per pid ("NAME PID"), in it the thread
    # groups ordered by thread_sort_index (Perfetto >= 57), the main
    # thread first, then by tid, each shown as "NAME TID"; then the
    # process's counters by name (TraceProcessorTrack, sortOrder 30).
    ui = []
    for pid in sorted({t[0] for t in data} | {n for n in pnames}):
        ui.append('%s %d' % (pnames.get(pid) or 'Process', pid))
        for t in sorted((t for t in data if t[0] == pid),
                        key=lambda t: (sort_index.get(t, 0), t[1] != pid, t[1])):
            ui.append('  %s %d' % (names.get(t) or 'Thread', t[1]))
        for c in sorted(counters, key=str.lower):
            ui.append('  %s' % c)
    ranks = collections.Counter(sort_index.get(t, 0) for t in data)
    for rk, k in ranks.items():
        if k > 1:
            err('%d threads share thread_sort_index %d: their order is by tid' % (k, rk))

    # Threads by what the UI shows, "NAME TID" (unique); keys shared with
    # the protobuf's summary: a thread's tid, a pseudo-thread's name
    # without ", lane".
    def label(t):
        return '%s %d' % (names.get(t) or 'Thread', t[1])
    flow_list = []
    for fid, (src, dst) in flows.done.items():
        flow_list.append({'from_track': label(src['track']), 'from': src['name'],
                          'from_within': within(src), 'to_track': label(dst['track']),
                          'to': dst['name'], 'id': fid})
    tracks = []
    for t, n in names.items():
        lane = n.endswith(', lane')
        tracks.append({'name': label(t), 'kind': 'lane' if lane else 'track', 'tid': t[1],
                       'key': 'lane:' + n[:-len(', lane')] if lane else 'tid:%d' % t[1]})
    for s in stalls:
        s['track'] = label(s['track'])
    out = summary(tracks, {label(t): c for t, c in by_cat.items()}, stalls, flow_list,
                  counters)
    out['begins'] = {label(t): v for t, v in begins.items()}
    out['ui'] = ui
    return out


# ---- the two formats agree ----------------------------------------------------

def canon_counter(name):
    """JSON pads worker numbers in counter names: "worker 02 local queue"."""
    return re.sub(r'^worker 0*(\d)', r'worker \1', name)


def compare(pf, jf):
    with open(pf) as f:
        p = json.load(f)
    with open(jf) as f:
        j = json.load(f)

    def by_key(s, what):
        out = collections.defaultdict(collections.Counter)
        for t in s['tracks']:
            if t.get('key') and t['name'] in s[what]:
                v = s[what][t['name']]
                out[t['key']].update(v if isinstance(v, dict) else {'n': v[0], 'sum': v[1]})
        return {k: dict(v) for k, v in out.items()}

    pk, jk = by_key(p, 'events'), by_key(j, 'events')
    for k in sorted(set(pk) | set(jk)):
        if pk.get(k) != jk.get(k):
            err('track %r: perfetto %s, json %s' % (k, pk.get(k), jk.get(k)))
    # The JSON's microseconds read back as the protobuf's nanoseconds.
    pb, jb = by_key(p, 'begins'), by_key(j, 'begins')
    for k in sorted(set(pb) | set(jb)):
        if pb.get(k) != jb.get(k):
            err('track %r: begin times perfetto %s, json %s' % (k, pb.get(k), jb.get(k)))
    pc = {canon_counter(k): v for k, v in p['counters'].items()}
    jc = {canon_counter(k): v for k, v in j['counters'].items()}
    for t in sorted(set(pc) | set(jc)):
        if pc.get(t) != jc.get(t):
            err('counter %r: perfetto %s, json %s' % (t, pc.get(t), jc.get(t)))
    if len(p['flows']) != len(j['flows']):
        err('flows: perfetto %d, json %d' % (len(p['flows']), len(j['flows'])))
    ps = sorted((x['name'], round(x['dur_ms'], 6)) for x in p['stalls'])
    js = sorted((x['name'], round(x['dur_ms'], 6)) for x in j['stalls'])
    if ps != js:
        err('stalls: perfetto %s, json %s' % (ps, js))
    return {'tracks': len(pk), 'flows': len(p['flows']), 'stalls': len(p['stalls'])}


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
    except (ValueError, KeyError, OSError, IndexError, TypeError) as e:
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
