"""Drives bench/replication.sh: uploads to region A at a steady rate and
measures when each upload is held by region B (asked through B's signed peer
API, which answers from B's own store only), or uploads a backlog and times
how fast A's link to B drains it.

  replication.py lag A_URL B_URL BASE_JPEG RATE SECONDS
  replication.py backlog A_URL BASE_JPEG COUNT OUT_DIR   (uploads only)
  replication.py drain A_URL PEER    (prints changes/s, MB/s, changes, seconds)
"""

import hashlib
import hmac
import json
import os
import statistics
import sys
import threading
import time
import urllib.error
import urllib.request

KEY = os.environ["EDGEIMG_REPLICATION_KEY"].encode()


def signed_get(base, path):
    t = str(int(time.time()))
    content = hashlib.sha256(b"").hexdigest()
    sig = hmac.new(KEY, f"GET\n{path}\n{t}\n{content}".encode(), hashlib.sha256).hexdigest()
    req = urllib.request.Request(base + path, headers={
        "x-edgeimg-time": t, "x-edgeimg-content-sha256": content, "x-edgeimg-signature": sig})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def upload(base, body):
    req = urllib.request.Request(base + "/upload", data=body, method="POST",
                                 headers={"content-type": "application/octet-stream"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)["id"]


def distinct(base_jpeg, n):
    """The base JPEG with `n` appended after its end marker: a distinct id,
    the same picture."""
    return base_jpeg + b"edgeimg-bench-%08d" % n


def lag(a, b, base_jpeg, rate, seconds):
    lags, pending, lock = [], {}, threading.Lock()
    stop = threading.Event()

    def watch():
        while not stop.is_set() or pending:
            with lock:
                items = list(pending.items())
            for oid, acked in items:
                if signed_get(b, f"/.well-known/edgeimg/objects/images/orig%2F{oid}") == 200:
                    with lock:
                        pending.pop(oid, None)
                        lags.append(time.monotonic() - acked)
            time.sleep(0.002)

    watcher = threading.Thread(target=watch)
    watcher.start()
    start, n, total = time.monotonic(), 0, int(rate * seconds)
    while n < total:
        due = start + n / rate
        if time.monotonic() < due:
            time.sleep(due - time.monotonic())
        oid = upload(a, distinct(base_jpeg, n))
        with lock:
            pending[oid] = time.monotonic()
        n += 1
    stop.set()
    watcher.join(timeout=60)
    lags.sort()
    p = lambda q: lags[min(len(lags) - 1, int(q * len(lags)))] * 1000
    print(f"{len(lags)}/{total} uploads of {len(base_jpeg) // 1024} KiB at {rate}/s: "
          f"lag p50 {p(0.5):.0f} ms, p99 {p(0.99):.0f} ms, max {lags[-1] * 1000:.0f} ms "
          f"(mean {statistics.mean(lags) * 1000:.0f} ms)")


def backlog(a, base_jpeg, count, out_dir):
    for n in range(count):
        body = distinct(base_jpeg, 10_000_000 + n)
        upload(a, body)
        if n == 0:
            with open(os.path.join(out_dir, "object.bin"), "wb") as f:
                f.write(body)


def metric(base, name):
    with urllib.request.urlopen(base + "/metrics", timeout=5) as r:
        for line in r.read().decode().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[-1])
    return None


def drain(a, peer):
    """Once A has delivered its first batch of the backlog to `peer` (the
    peer just came back; A's breaker may hold it a moment), how fast the rest
    goes: changes and value bytes per second until the backlog is 0."""
    labels = f'{{peer="{peer}"}}'
    delivered = lambda: metric(a, "edgeimg_replication_delivered_total" + labels) or 0
    sent = lambda: metric(a, "edgeimg_replication_delivered_bytes_total" + labels) or 0
    before = delivered()
    while delivered() == before:
        time.sleep(0.005)
    t0, d0, b0 = time.monotonic(), delivered(), sent()
    while metric(a, "edgeimg_replication_backlog" + labels) != 0:
        time.sleep(0.005)
    took = time.monotonic() - t0
    changes, value_bytes = delivered() - d0, sent() - b0
    print(f"{changes / took:.1f} {value_bytes / took / 1e6:.2f} {changes:.0f} {took:.3f}")


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "lag":
        lag(args[0], args[1], open(args[2], "rb").read(), float(args[3]), float(args[4]))
    elif cmd == "backlog":
        backlog(args[0], open(args[1], "rb").read(), int(args[2]), args[3])
    elif cmd == "drain":
        drain(args[0], args[1])
