"""Checks a process under the shifted clock before the suite runs in one.

1. The wall clock reads SHIFT_DAYS ahead of the real one (passed in as epoch seconds).
2. Environment writes beside threads that read clocks, sleep and wait, the pattern of the suite
   (monkeypatch.setenv while moto and the local stack run threads). Under libfaketime without
   faketime_fixes.c this crashed with a segmentation fault within a second; with it, it must finish.

Usage: check.py SHIFT_DAYS REAL_EPOCH_SECONDS [PROBE_SECONDS]
"""

import os
import sys
import threading
import time

shift_days, real_now = int(sys.argv[1]), int(sys.argv[2])
probe_seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 3.0

days = round((time.time() - real_now) / 86400)
print(f"process clock shifted {days:+d} days")
if days != shift_days:
    sys.exit(f"expected {shift_days:+d} days: is libfaketime preloaded?")

stop = threading.Event()


def reader() -> None:
    ticker = threading.Event()
    while not stop.is_set():
        ticker.wait(0.0005)
        time.sleep(0.0002)
        time.time()


threads = [threading.Thread(target=reader) for _ in range(4)]
for thread in threads:
    thread.start()
started, rounds = time.monotonic(), 0
while time.monotonic() - started < probe_seconds:
    for i in range(50):
        os.environ[f"ENV_RACE_PROBE_{rounds}_{i}"] = "x"
    for i in range(50):
        del os.environ[f"ENV_RACE_PROBE_{rounds}_{i}"]
    rounds += 1
stop.set()
for thread in threads:
    thread.join()
print(f"environment race probe: {rounds * 100} writes beside 4 waiting threads, no crash")
