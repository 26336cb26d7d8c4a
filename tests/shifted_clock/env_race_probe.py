"""Environment writes beside threads that read clocks, sleep and wait: the pattern of the suite
(monkeypatch.setenv while moto and the local stack run threads). Under libfaketime without
faketime_fixes.c this crashes with a segmentation fault within a second; with it, it must finish."""

import os
import sys
import threading
import time

SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 3.0
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
while time.monotonic() - started < SECONDS:
    for i in range(50):
        os.environ[f"ENV_RACE_PROBE_{rounds}_{i}"] = "x"
    for i in range(50):
        del os.environ[f"ENV_RACE_PROBE_{rounds}_{i}"]
    rounds += 1
stop.set()
for thread in threads:
    thread.join()
print(f"environment race probe: {rounds * 100} writes beside 4 waiting threads, no crash")
