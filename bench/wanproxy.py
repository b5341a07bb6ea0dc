"""A userspace WAN emulator: TCP proxies on loopback that add latency and
emulate packet loss (the kernels here have no `netem` qdisc).

  wanproxy.py LISTEN_PORT:TARGET_PORT:RTT_MS:LOSS [...]

Each argument is one link: connections to 127.0.0.1:LISTEN_PORT are
forwarded to 127.0.0.1:TARGET_PORT. Data in each direction is held for half
the RTT; a new connection waits one RTT before its first byte goes through
(the TCP handshake). Loss is emulated as TCP sees it, since a proxy cannot
drop bytes of a stream: each 1448-byte segment is lost with probability
LOSS, and a loss holds that segment and everything after it (in-order
delivery) for a retransmission: one RTT when at least three more segments
follow it by the time it is due (fast retransmit), else max(200 ms, 2 x
RTT) (a tail loss: probe or timeout). Prints "ready" once every link listens; runs
until killed. Used by bench/replication.sh and tests/wan.rs.
"""

import asyncio
import random
import sys
import time

SEGMENT = 1448
READ = 65536
MIN_RTO = 0.2


class Link:
    def __init__(self, listen, target, rtt_ms, loss):
        self.listen, self.target = listen, target
        self.rtt = rtt_ms / 1000.0
        self.loss = loss

    def lost(self, segments):
        """How many segments from the end of a burst the first lost one is
        (`None` when none is lost)."""
        for i in range(segments):
            if random.random() < self.loss:
                return segments - i - 1
        return None

    async def pump(self, reader, writer, start):
        """Copies reader to writer, each burst released half an RTT after
        it arrived (or after `start`, the end of the handshake), never
        before an earlier one, plus a retransmission for a loss: one RTT
        when three segments or more follow it by then (fast retransmit),
        else max(200 ms, 2 x RTT) (a tail loss: probe or timeout)."""
        queue = asyncio.Queue()

        async def send():
            release = start
            while True:
                item = await queue.get()
                if item is None:
                    break
                due, data, from_end = item
                delay = due - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                penalty = 0.0
                if from_end is not None:
                    followed = from_end >= 3 or not queue.empty()
                    penalty = self.rtt if followed else max(MIN_RTO, 2 * self.rtt)
                # Losses within one window are recovered together: delays
                # do not add up, the latest one holds what follows.
                release = max(release, due + penalty)
                delay = release - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                writer.write(data)
                await writer.drain()
            try:
                writer.write_eof()
            except (OSError, RuntimeError):
                pass

        sender = asyncio.create_task(send())
        try:
            while True:
                data = await reader.read(READ)
                if not data:
                    break
                segments = (len(data) + SEGMENT - 1) // SEGMENT
                due = max(time.monotonic(), start) + self.rtt / 2
                queue.put_nowait((due, data, self.lost(segments)))
        except (ConnectionError, OSError):
            pass
        queue.put_nowait(None)
        try:
            await sender
        except (ConnectionError, OSError):
            pass

    async def handle(self, client_reader, client_writer):
        try:
            server_reader, server_writer = await asyncio.open_connection("127.0.0.1", self.target)
        except OSError:
            client_writer.close()
            return
        # The handshake's round trip: nothing flows before it is over.
        start = time.monotonic() + self.rtt
        await asyncio.gather(
            self.pump(client_reader, server_writer, start),
            self.pump(server_reader, client_writer, start),
            return_exceptions=True,
        )
        for w in (client_writer, server_writer):
            w.close()

    async def serve(self):
        return await asyncio.start_server(self.handle, "127.0.0.1", self.listen)


async def main(specs):
    servers = []
    for spec in specs:
        listen, target, rtt, loss = spec.split(":")
        link = Link(int(listen), int(target), float(rtt), float(loss))
        servers.append(await link.serve())
    print("ready", flush=True)
    await asyncio.gather(*(s.serve_forever() for s in servers))


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    try:
        asyncio.run(main(sys.argv[1:]))
    except KeyboardInterrupt:
        pass
