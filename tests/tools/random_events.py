#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A random event stream for mktrace: runtime probes, kernel events, lost
events and names in any order and combination, with some records out of
time order; workers out of range, tasks polled that were never notified,
ends without begins.  `stallscope export` must write a valid file for any
of them (tests/scenario/export.sh).  Deterministic per seed.

  random_events.py SEED > IN.txt
"""
import random, sys
seed = int(sys.argv[1]); random.seed(seed)
out = ["meta pid 100", "meta workers 3"]
t = 1000.0
tids = [100, 101, 102, 103, 104]
types = ["notify", "poll_start", "poll_end", "steal", "park", "unpark", "search_start",
         "search_end", "inject_push", "inject_pop", "overflow", "futex_enter", "futex_exit",
         "epoll_enter", "epoll_exit", "sk_data_ready", "lost", "sched_switch", "comm",
         "worker_start", "worker_stop", "task_cancel", "wake_worker", "spawn", "thread_exit"]
def w(): return random.choice([-1, 0, 1, 2, 3, 0, 1, 300])
def task(): return random.randint(1, 8)
for i in range(random.randint(1, 400)):
    t += random.random() * random.choice([0.001, 0.1, 5, 30])
    ts = t - (random.random() * 2 if random.random() < 0.1 else 0)
    ty = random.choice(types)
    tid = random.choice(tids)
    a = {
      "notify": lambda: "task=%d waker=%d dest=%s displaced=%d" % (task(), w(), random.choice(["lifo","local","inject"]), random.choice([0, task()])),
      "poll_start": lambda: "worker=%d task=%d src=%s" % (w(), task(), random.choice(["lifo","local","inject","steal"])),
      "poll_end": lambda: "worker=%d task=%d result=%s" % (w(), task(), random.choice(["pending","ready","yield"])),
      "steal": lambda: "thief=%d victim=%d count=%d lifo_task=%d" % (w(), w(), random.randint(0,5), random.choice([0, task()])),
      "park": lambda: "worker=%d kind=%s" % (w(), random.choice(["futex","driver"])),
      "unpark": lambda: "worker=%d kind=%s" % (w(), random.choice(["futex","driver"])),
      "search_start": lambda: "worker=%d" % w(),
      "search_end": lambda: "worker=%d found=%d" % (w(), random.randint(0,1)),
      "inject_push": lambda: "task=%d count=%d len=%d" % (task(), random.randint(1,3), random.randint(0,9)),
      "inject_pop": lambda: "worker=%d count=%d len=%d" % (w(), random.randint(0,3), random.randint(0,9)),
      "overflow": lambda: "worker=%d count=%d" % (w(), random.randint(0,5)),
      "futex_enter": lambda: "uaddr=0x10 op=%s val=1 timeout_ns=-1" % random.choice(["wait|private","wake|private"]),
      "futex_exit": lambda: "ret=0",
      "epoll_enter": lambda: "epfd=3 maxevents=8 timeout=-1 which=wait",
      "epoll_exit": lambda: "ret=%d which=wait" % random.randint(-1, 2),
      "sk_data_ready": lambda: "ino=0xb000 family=inet protocol=tcp",
      "lost": lambda: "count=%d" % random.randint(1, 9),
      "sched_switch": lambda: "prev=%d next=%d prev_state=%s prev_target=1 next_target=1" % (tid, random.choice(tids), random.choice(["R","S"])),
      "comm": lambda: "comm=%s" % random.choice(["wsrt-w0","wsrt-w1","wsrt-w2","main","\\xffx"]),
      "worker_start": lambda: "worker=%d thread=%d" % (w(), random.choice(tids)),
      "worker_stop": lambda: "worker=%d thread=%d" % (w(), random.choice(tids)),
      "task_cancel": lambda: "task=%d" % task(),
      "wake_worker": lambda: "waker=%d target=%d" % (w(), w()),
      "spawn": lambda: "task=%d parent=0 poll_fn=0x%x state=0" % (task(), random.randint(0, 4096)),
      "thread_exit": lambda: "exit_code=0",
    }[ty]()
    out.append("%.6f %s tid=%d cpu=%d %s" % (ts, ty, tid, random.randint(0, 3), a))
print("\n".join(out))
