# SPDX-License-Identifier: MIT
"""Perfetto's importer, as check_export.py models it: trace_processor's
slice and flow trackers, its sorter, its reading of JSON times, how it
resolves TrackEvent tracks, and the track tree the UI builds from them.
Written from the sources of google/perfetto (v58: each rule says where it
comes from), not copied from them.

Problems are collected with err(); check_export.py prints them.
"""
import collections
import math
import re

errors = []


def err(msg):
    if len(errors) < 50:
        errors.append(msg)


# ---- trace_processor's slice and flow trackers, its sorter ---------------------

PENDING = None          # SliceTracker's kPendingDuration: a slice not ended yet
MAX_DEPTH = 512         # SliceTracker::kMaxDepth


class Slices:
    """SliceTracker (importers/common/slice_tracker.cc): one stack of open
    slices per track.  A slice's dur is PENDING until its end.  Every loss
    is an error, named after the stat or the silent drop trace_processor
    would make."""

    def __init__(self):
        self.stacks = collections.defaultdict(list)

    def _close_stack(self, track, ts, dur, what):
        """SliceTracker::MaybeCloseStack: pops what ended before ts;
        false if the new slice would partly overlap one (dropped)."""
        stack = self.stacks[track]
        incomplete_below = False
        i = len(stack) - 1
        while i >= 0:
            s = stack[i]
            if s['dur'] is PENDING:
                incomplete_below = True
                i -= 1
                continue
            end = s['ts'] + s['dur']
            if incomplete_below:
                if ts <= end:
                    i -= 1
                    continue
                # An open slice nested in one that ended: stat
                # misplaced_end_event, the open ones cut at that end.
                err('%s at %d: slice %r nested in %r, which ended at %d '
                    '(misplaced_end_event)' % (what, ts, stack[-1]['name'], s['name'], end))
                del stack[i:]
                incomplete_below = False
                i = len(stack) - 1
                continue
            # Intervals are closed on the left, open on the right; only
            # two instants at one time stack.
            if end < ts or (end == ts and not (s['dur'] == 0 and dur == 0)):
                stack.pop()
                i -= 1
                continue
            if dur is not PENDING and ts < end and ts + dur > end:
                err('%s at %d: overlaps %r [%d, %d) without nesting '
                    '(slice_drop/spill_overlapping_complete_event)'
                    % (what, ts, s['name'], s['ts'], end))
                return False
            i -= 1
        return True

    def begin(self, track, ts, name, cat, dur=PENDING, what='slice', args=None):
        """SliceTracker::Begin (dur PENDING) and ::Scoped (instants: 0)."""
        if not self._close_stack(track, ts, dur, what):
            return None
        stack = self.stacks[track]
        if len(stack) >= MAX_DEPTH:
            err('%s %r at %d: deeper than %d (slice_max_depth_exceeded)'
                % (what, name, ts, MAX_DEPTH))
            return None
        s = {'ts': ts, 'name': name, 'cat': cat, 'dur': dur, 'track': track,
             'parent': stack[-1] if stack else None, 'args': dict(args or {})}
        stack.append(s)
        return s

    def end(self, track, ts, name=None, cat=None, what='end'):
        """SliceTracker::End: the innermost open slice whose name and
        category match (None matches any).  Nothing matching: the end is
        dropped without a stat."""
        if not self._close_stack(track, ts, PENDING, what):
            return None
        stack = self.stacks[track]
        for i in range(len(stack) - 1, -1, -1):
            s = stack[i]
            if s['dur'] is not PENDING:
                continue
            if cat is not None and s['cat'] != cat:
                continue
            if name is not None and s['name'] != name:
                continue
            if any(x['dur'] is PENDING for x in stack[i + 1:]):
                err('%s at %d ends %r, not the innermost open slice %r'
                    % (what, ts, s['name'], stack[-1]['name']))
            if ts < s['ts']:
                err('%s at %d: slice %r began at %d (slice_negative_duration)'
                    % (what, ts, s['name'], s['ts']))
            s['dur'] = ts - s['ts']
            if i == len(stack) - 1:
                stack.pop()
            return s
        err('%s at %d on a track with no open slice%s: dropped' %
            (what, ts, '' if name is None else ' named %r' % name))
        return None

    def topmost(self, track):
        """SliceTracker::GetTopmostSliceOnTrack."""
        stack = self.stacks[track]
        return stack[-1] if stack else None

    def left_open(self):
        for track, stack in self.stacks.items():
            for s in stack:
                if s['dur'] is PENDING:
                    yield track, s


class Flows:
    """FlowTracker (importers/common/flow_tracker.cc): an id is active from
    the slice that begins it to the one that ends it."""

    def __init__(self):
        self.active = {}        # id -> the slice it left from
        self.done = {}          # id -> (from slice, to slice)

    def begin(self, fid, s, what):
        if s is None:
            err('%s: flow %s on a slice that was not made: dropped' % (what, fid))
        elif fid in self.active or fid in self.done:
            err('%s: flow %s begun twice (flow_duplicate_id)' % (what, fid))
        else:
            self.active[fid] = s

    def end(self, fid, s, what, close):
        if s is None:
            err('%s: flow %s on a slice that was not made: dropped' % (what, fid))
            return
        if fid not in self.active:
            # TrackEvent: terminating_flow_ids of an inactive id are
            # skipped without a stat; JSON: flow_end_without_start.
            err('%s: flow %s ends before it began in sorted order, or twice: '
                'the arrow is dropped' % (what, fid))
            return
        if fid in self.done:
            # JSON ends do not close the id: a second one draws a
            # second arrow.
            err('%s: flow %s ended twice' % (what, fid))
            return
        start = self.active[fid]
        if close:
            del self.active[fid]
        self.done[fid] = (start, s)

    def check_all_ended(self):
        for fid, s in self.active.items():
            if fid not in self.done:
                err('flow %s from %r never ends: no arrow' % (fid, s['name']))


def sort_key_default(ev):
    """TraceSorter: time, then the order pushed (file order)."""
    return (ev[0], ev[1])


def within(s):
    """The slice s was nested in when it began (not an instant), by name."""
    p = s['parent']
    while p is not None and p['dur'] == 0:
        p = p['parent']
    return p['name'] if p else None


# ---- JSON times -------------------------------------------------------------------

def json_us_to_ns(text):
    """CoerceToTs (json_trace_tokenizer.cc) on a number as it is written:
    an integer is exact; otherwise util/json_parser.h's StringToDouble
    (double(integer part) + double(fraction digits) / 10^digits), then
    llround(us * 1000) (Perfetto >= 51; before, the product truncated)."""
    if isinstance(text, int):
        return text * 1000
    m = re.fullmatch(r'(-?)(\d+)(?:\.(\d+))?', text)
    if not m:
        err('time %r: not a plain decimal' % text)
        return 0
    neg, ip, fp = m.groups()
    v = float(int(ip))
    if fp:
        v += float(int(fp)) / float(10 ** len(fp))
    if neg:
        v = -v
    if v == math.trunc(v):
        return int(v) * 1000
    p = v * 1000.0
    return int(math.floor(p + 0.5)) if p >= 0 else -int(math.floor(-p + 0.5))


# ---- TrackEvent tracks ------------------------------------------------------------

ORDERINGS = {'UNKNOWN': None, 'LEXICOGRAPHIC': 'lexicographic',
             'CHRONOLOGICAL': 'chronological', 'EXPLICIT': 'explicit'}


class ProtoTracks:
    """The track descriptors of a trace, reserved in file order, resolved
    as TrackEventTracker (importers/proto/track_event_tracker.cc) resolves
    them.  A reservation is a dict: uuid, parent, name, description,
    ordering, rank, counter, pid, tid, thread_name, process_name."""

    def __init__(self):
        self.r = {}

    def reserve(self, n, r):
        """TrackEventTracker::ReserveDescriptorTrack: a uuid declared again
        must be the same track; a track keeps its first non-null name (a
        root thread track's is its thread name, set in sorted order)."""
        old = self.r.get(r['uuid'])
        if old is None:
            self.r[r['uuid']] = r
            return
        if any(old[k] != r[k] for k in ('parent', 'pid', 'tid', 'counter')):
            err('packet %d: track %d declared again differently '
                '(track_descriptor_conflicting_reservation)' % (n, r['uuid']))
        elif r['name'] is not None and old['name'] is not None and \
                r['name'] != old['name'] and r['tid'] is None:
            err('packet %d: track %r renamed %r: Perfetto keeps the first name'
                % (n, old['name'], r['name']))
        elif old['name'] is None:
            old['name'] = r['name']

    def ancestors(self, uuid):
        """uuid and its parents; None (and a stat) if the chain is broken
        (IsTrackHierarchyValid)."""
        chain = []
        cur = uuid
        while cur:
            if cur in chain or len(chain) > 100:
                err('track %d: its parents loop or nest deeper than 100 '
                    '(track_event_track_hierarchy_loop/too_deep)' % uuid)
                return None
            if cur not in self.r:
                err('track %d: parent %d never declared (track_hierarchy_missing_uuid)'
                    % (uuid, cur))
                return None
            chain.append(cur)
            cur = self.r[cur]['parent']
        return chain

    def scope(self, uuid):
        """ResolveDescriptorTrackImpl: ('thread', tid), ('process', pid) or
        ('global',); and whether it is the root track of its thread or
        process.  A child of a thread or process track has its scope."""
        r = self.r[uuid]
        if r['tid'] is not None:
            return ('thread', r['tid']), True
        if r['pid'] is not None:
            return ('process', r['pid']), True
        if r['parent']:
            ps, _ = self.scope(r['parent'])
            if ps[0] != 'global':
                return ps, False
        return ('global',), False

    def tp_parent(self, uuid):
        """The parent trace_processor records (InternDescriptorTrackImpl):
        none when the parent is a root process or thread track, whose
        children are promoted to its siblings (the comment on parent_uuid
        in track_descriptor.proto)."""
        r = self.r[uuid]
        if not r['parent'] or self.scope(uuid)[1] or self.scope(r['parent'])[1]:
            return None
        return r['parent']

    def check_honoured(self):
        """Which descriptor fields Perfetto honours on which kind of track
        (track_descriptor.proto; InternThreadTrack takes no args)."""
        for uuid, r in self.r.items():
            (kind, *_), root = self.scope(uuid)
            label = r['name'] or r['process_name'] or r['thread_name']
            if kind in ('thread', 'process') and root and r['ordering']:
                err('track %r: child_ordering is ignored on process and thread tracks' % label)
            if kind == 'thread' and root:
                if r['description']:
                    err('track %r: a root thread track drops its description' % label)
                if r['name'] is not None:
                    err('track %r: a root thread track is named by its thread, not by name'
                        % label)
                if r['thread_name'] and re.search(r'\b%d\b' % r['tid'], r['thread_name']):
                    err('thread %r: the UI adds the tid to the name itself' % r['thread_name'])
            parent = self.tp_parent(uuid)
            if r['rank'] is not None and parent is not None and \
                    self.r[parent]['ordering'] != 'explicit':
                err('track %r: sibling_order_rank is ignored under a parent without '
                    'EXPLICIT child_ordering' % label)
            if r['name'] is None and not root:
                err('track %d: no name: the UI names it after its first event' % uuid)

    def ui_tree(self, data, first_event):
        """dev.perfetto.TrackEvent's tree for the tracks trace_processor made
        (a track exists once an event on it or below it was parsed), ordered
        as viz/summary/track_event.sql orders siblings: by rank under an
        EXPLICIT parent, by first event under CHRONOLOGICAL, else by name; a
        track shows if it has data or children (descendants with data).
        Process- and thread-scoped tracks go into the process group: its
        thread groups (named "THREAD TID") first, then its other tracks by
        name (dev.perfetto.ProcessThreadGroups, sortOrder)."""
        made = set(first_event)
        children = collections.defaultdict(list)
        tops = []
        for u in made:
            p = self.tp_parent(u)
            if p is None:
                tops.append(u)
            else:
                children[p].append(u)

        def shown(u):
            return u in data or any(shown(c) for c in children[u])

        def display(u):
            r = self.r[u]
            sc, root = self.scope(u)
            if sc[0] == 'thread' and root:
                return '%s %d' % (r['thread_name'] or 'Thread', r['tid'])
            return r['name'] or '[NULL]'

        # Sibling tracks with one name under one parent merge into one
        # (SIBLING_MERGE_BEHAVIOR_BY_TRACK_NAME, the default).
        def check_merge(group):
            seen = collections.Counter(self.r[u]['name'] for u in group
                                       if not self.scope(u)[1])
            for nm, k in seen.items():
                if k > 1:
                    err('%d sibling tracks named %r: the UI merges them into one' % (k, nm))

        def order(parent, group):
            check_merge(group)
            how = self.r[parent]['ordering'] if parent else None
            if how == 'explicit':
                ranks = collections.Counter(self.r[u]['rank'] or 0 for u in group)
                for rk, k in ranks.items():
                    if k > 1:
                        err('%d tracks under %r share rank %d: their order is arbitrary'
                            % (k, self.r[parent]['name'], rk))
                return sorted(group, key=lambda u: self.r[u]['rank'] or 0)
            if how == 'chronological':
                return sorted(group, key=lambda u: first_event[u])
            return sorted(group, key=lambda u: self.r[u]['name'] or '')

        out = []

        def walk(u, depth):
            if not shown(u):
                return
            out.append('  ' * depth + display(u))
            for c in order(u, children[u]):
                walk(c, depth + 1)

        globals_ = [u for u in tops if self.scope(u)[0][0] == 'global']
        for u in order(None, globals_):
            walk(u, 0)
        procs = collections.defaultdict(list)
        for u in tops:
            sc, root = self.scope(u)
            if sc[0] != 'global':
                procs[self.r[u]['pid'] if root else sc[1]].append(u)
        for pid, group in sorted(procs.items()):
            pname = next((r['process_name'] for r in self.r.values()
                          if r['pid'] == pid and r['tid'] is None and r['process_name']),
                         None)
            out.append('%s %s' % (pname, pid) if pname else 'Process %s' % pid)
            threads = sorted((u for u in group if self.scope(u)[1] and
                              self.scope(u)[0][0] == 'thread'),
                             key=lambda u: (self.r[u]['tid'] != pid, self.r[u]['tid']))
            for u in threads:
                walk(u, 1)
            for u in order(None, [u for u in group if u not in threads]):
                walk(u, 1)
        return out
