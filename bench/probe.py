"""A fixed-rate latency probe for bench/overload.sh: GETs URL RATE times a
second for SECONDS over one keep-alive connection and prints p50 and p99 in
ms. Latency is measured from when each request was due, not when it was
sent, so a stalled server is not flattered by the requests it delayed
(no coordinated omission); the probe itself adds almost no load.

  probe.py URL SECONDS RATE
"""

import http.client
import sys
import time
import urllib.parse

url, seconds, rate = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
parts = urllib.parse.urlsplit(url)
path = parts.path + ("?" + parts.query if parts.query else "")
conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
latencies = []
start = time.monotonic()
n = 0
while True:
    due = start + n / rate
    if due > start + seconds:
        break
    now = time.monotonic()
    if now < due:
        time.sleep(due - now)
    conn.request("GET", path)
    response = conn.getresponse()
    response.read()
    if response.status != 200:
        sys.exit(f"{url}: {response.status}")
    latencies.append((time.monotonic() - due) * 1000)
    n += 1
latencies.sort()
pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]
print(f"{pick(0.5):.2f} {pick(0.99):.2f}")
