"""Drives bench/replication.sh.

  replication.py lag SRC_URL BASE_JPEG RATE SECONDS NAME=URL...
      uploads to SRC at RATE/s for SECONDS; for each upload, the time from
      SRC's 201 until each destination holds it (asked through its signed
      peer API, which answers from its own store only); p50/p99 per one.
  replication.py backlog SRC_URL BASE_JPEG COUNT OUT_DIR TAG
      COUNT uploads (the link's objects are written to OUT_DIR/objects/:
      each upload's original, metadata JSON and empty index entry).
  replication.py drain SRC_URL PEER LOG OFFSET
      waits until SRC's backlog for PEER is 0, then reads SRC's log from
      byte OFFSET: from the start of the first batch it delivered to PEER
      to the end of the last, changes/s and value MB/s.
      Prints: changes_per_s mb_per_s changes seconds
"""

import hashlib
import hmac
import http.client
import json
import os
import re
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import datetime

KEY = os.environ["EDGEIMG_REPLICATION_KEY"].encode()


class Peer:
    """A keep-alive connection to one host's signed peer API."""

    def __init__(self, url):
        host, port = url.removeprefix("http://").split(":")
        self.conn = http.client.HTTPConnection(host, int(port), timeout=5)

    def status(self, path):
        t = str(int(time.time()))
        content = hashlib.sha256(b"").hexdigest()
        sig = hmac.new(KEY, f"GET\n{path}\n{t}\n{content}".encode(), hashlib.sha256).hexdigest()
        headers = {"x-edgeimg-time": t, "x-edgeimg-content-sha256": content,
                   "x-edgeimg-signature": sig}
        for attempt in range(2):
            try:
                self.conn.request("GET", path, headers=headers)
                r = self.conn.getresponse()
                r.read()
                return r.status
            except (ConnectionError, http.client.HTTPException, OSError):
                self.conn.close()
                if attempt:
                    raise
        return None


def upload(base, body):
    req = urllib.request.Request(base + "/upload", data=body, method="POST",
                                 headers={"content-type": "application/octet-stream"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)["id"]


def distinct(base_jpeg, n):
    """The base JPEG with `n` appended after its end marker: a distinct id,
    the same picture."""
    return base_jpeg + b"edgeimg-bench-%012d" % n


def pct(values, q):
    return values[min(len(values) - 1, int(q * len(values)))] * 1000


def lag(src, base_jpeg, rate, seconds, dests):
    """Lag from src's 201 to each destination holding the upload."""
    lock = threading.Lock()
    pending = {name: {} for name, _ in dests}
    lags = {name: [] for name, _ in dests}
    stop = threading.Event()

    def watch(name, url):
        peer = Peer(url)
        while not stop.is_set() or pending[name]:
            with lock:
                items = list(pending[name].items())
            for oid, acked in items:
                try:
                    status = peer.status(f"/.well-known/edgeimg/objects/images/orig%2F{oid}")
                except (ConnectionError, http.client.HTTPException, OSError):
                    peer = Peer(url)
                    continue
                if status == 200:
                    seen = time.monotonic()
                    with lock:
                        pending[name].pop(oid, None)
                        lags[name].append(seen - acked)
            time.sleep(0.003)

    watchers = [threading.Thread(target=watch, args=d, daemon=True) for d in dests]
    for w in watchers:
        w.start()
    start, n, total = time.monotonic(), 0, int(rate * seconds)
    salt = int(time.time() * 1000) % 10**9 * 1000
    while n < total:
        due = start + n / rate
        if time.monotonic() < due:
            time.sleep(due - time.monotonic())
        oid = upload(src, distinct(base_jpeg, salt + n))
        acked = time.monotonic()
        with lock:
            for name in pending:
                pending[name][oid] = acked
        n += 1
    deadline = time.monotonic() + 60
    while any(pending.values()) and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    for name, _ in dests:
        got = sorted(lags[name])
        if pending[name]:
            print(f"{name}: {len(pending[name])} uploads had not arrived after 60 s: {list(pending[name])[:3]}")
        if not got:
            continue
        print(f"{name}: {len(got)}/{total} uploads of {len(base_jpeg) // 1024} KiB at {rate:g}/s: "
              f"lag p50 {pct(got, 0.5):.0f} ms, p99 {pct(got, 0.99):.0f} ms, max {got[-1] * 1000:.0f} ms")


def backlog(src, base_jpeg, count, out_dir, tag):
    objects = os.path.join(out_dir, "objects")
    os.makedirs(objects, exist_ok=True)
    for n in range(count):
        body = distinct(base_jpeg, tag * 10**7 + n)
        oid = upload(src, body)
        if n == 0:
            with open(os.path.join(objects, "original"), "wb") as f:
                f.write(body)
            with urllib.request.urlopen(f"{src}/images/{oid}/meta", timeout=10) as r:
                with open(os.path.join(objects, "meta"), "wb") as f:
                    f.write(r.read())
            open(os.path.join(objects, "index"), "wb").close()


def metric(base, name):
    with urllib.request.urlopen(base + "/metrics", timeout=5) as r:
        for line in r.read().decode().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[-1])
    return None


BATCH = re.compile(r"^(\S+Z) .*delivered a batch peer=(\S+) changes=\d+ sent=(\d+) bytes=(\d+) took_ms=(\d+)")


def drain(src, peer, log, offset):
    labels = f'{{peer="{peer}"}}'
    time.sleep(0.5)
    deadline = time.monotonic() + 300
    while metric(src, "edgeimg_replication_backlog" + labels) != 0:
        if time.monotonic() > deadline:
            sys.exit("the backlog did not drain in 300 s")
        # The link's time comes from the sender's log, not from this loop:
        # poll slowly, since each scrape costs the sender CPU the link needs.
        time.sleep(0.2)
    with open(log, "rb") as f:
        f.seek(offset)
        lines = f.read().decode(errors="replace").splitlines()
    first = last = None
    changes = value_bytes = 0
    for line in lines:
        m = BATCH.match(line)
        if not m or m.group(2) != peer:
            continue
        end = datetime.fromisoformat(m.group(1).replace("Z", "+00:00")).timestamp()
        begin = end - int(m.group(5)) / 1000
        first = begin if first is None else min(first, begin)
        last = end if last is None else max(last, end)
        changes += int(m.group(3))
        value_bytes += int(m.group(4))
    took = last - first
    print(f"{changes / took:.1f} {value_bytes / took / 1e6:.2f} {changes} {took:.3f}")


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "lag":
        dests = [tuple(d.split("=", 1)) for d in args[4:]]
        lag(args[0], open(args[1], "rb").read(), float(args[2]), float(args[3]), dests)
    elif cmd == "backlog":
        backlog(args[0], open(args[1], "rb").read(), int(args[2]), args[3], int(args[4]))
    elif cmd == "drain":
        drain(args[0], args[1], args[2], int(args[3]))
    else:
        sys.exit(__doc__)
