"""Drives bench/listing.sh.

  listing.py seed DIR N     writes N uploads straight into an fs store under
                            DIR/images (original, metadata, index entry each,
                            as the upload component lays them out)
  listing.py time ROUNDS NAME=URL...
                            per round and host, the time of the first two
                            pages of GET /images?limit=10 (the second one
                            after the first's `next`: all of 20 uploads),
                            25 times; prints the median per host and its
                            ratio to the first host
"""

import hashlib
import http.client
import json
import os
import statistics
import sys
import time


def seed(root, n):
    images = os.path.join(root, "images")
    for sub in ("orig", "meta", "idx"):
        os.makedirs(os.path.join(images, sub), exist_ok=True)
    for i in range(n):
        body = b"seeded original %d" % i
        oid = hashlib.sha256(body).hexdigest()
        # One upload per millisecond, the newest last.
        ms = 1_700_000_000_000 + i
        t = time.gmtime(ms // 1000)
        created = time.strftime("%Y-%m-%dT%H:%M:%S", t) + ".%03dZ" % (ms % 1000)
        digits = "".join(c for c in created if c.isdigit())[:17].ljust(17, "0")
        inverted = "".join(str(9 - int(d)) for d in digits)
        meta = {"id": oid, "format": "png", "content_type": "image/png", "width": 1,
                "height": 1, "bytes": len(body), "created": created}
        with open(os.path.join(images, "orig", oid + "~"), "wb") as f:
            f.write(body)
        with open(os.path.join(images, "meta", oid + "~"), "w") as f:
            json.dump(meta, f)
        open(os.path.join(images, "idx", f"{inverted}-{oid}~"), "w").close()


def two_pages(conn):
    started = time.perf_counter()
    conn.request("GET", "/images?limit=10")
    r = conn.getresponse()
    page = json.loads(r.read())
    assert r.status == 200 and len(page["images"]) == 10 and page["next"], page
    after = page["next"].replace("/", "%2F")
    conn.request("GET", f"/images?limit=10&after={after}")
    r = conn.getresponse()
    second = json.loads(r.read())
    assert r.status == 200 and second["images"], second
    return time.perf_counter() - started


def timing(rounds, hosts):
    conns, first = {}, {}
    for name, url in hosts:
        host, port = url.removeprefix("http://").split(":")
        conns[name] = http.client.HTTPConnection(host, int(port), timeout=120)
        first[name] = two_pages(conns[name])  # builds the host's ordered index
    samples = {name: [] for name, _ in hosts}
    for _ in range(rounds):
        for name, _ in hosts:
            for _ in range(25):
                samples[name].append(two_pages(conns[name]))
    base = statistics.median(samples[hosts[0][0]])
    for name, _ in hosts:
        median = statistics.median(samples[name])
        print(f"{name} uploads: two pages of 10 in {median * 1000:.2f} ms (median of {len(samples[name])}), "
              f"{median / base:.2f}x {hosts[0][0]}; the first two (index built) {first[name] * 1000:.0f} ms")


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "seed":
        seed(args[0], int(args[1]))
    elif cmd == "time":
        timing(int(args[0]), [tuple(h.split("=", 1)) for h in args[1:]])
    else:
        sys.exit(__doc__)
