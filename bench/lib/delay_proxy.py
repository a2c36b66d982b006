#!/usr/bin/env python3
"""A TCP delay line for benchmarks: makes a loopback server look like one across a WAN.

    python3 bench/lib/delay_proxy.py [LISTEN_HOST:]LISTEN_PORT TARGET_HOST:TARGET_PORT ONE_WAY_MS

Every byte is forwarded ONE_WAY_MS after it arrived, in each direction, so a request/response
round trip costs 2 x ONE_WAY_MS more, whatever the sizes (bytes are scheduled by arrival time,
not delayed chunk by chunk); ONE_WAY_MS 0 forwards at once. Bandwidth is not limited here
(bench/lib/wan.sh caps it with tc). LISTEN_HOST defaults to 127.0.0.1. Prints "ready" on stdout
once listening; runs until killed.
"""
import asyncio
import sys
import time


async def pipe(reader, writer, delay):
    queue = asyncio.Queue()

    async def read():
        while True:
            data = await reader.read(1 << 16)
            await queue.put((time.monotonic() + delay, data))
            if not data:
                return

    async def write():
        while True:
            due, data = await queue.get()
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            if not data:
                if writer.can_write_eof():
                    writer.write_eof()
                return
            writer.write(data)
            await writer.drain()

    try:
        await asyncio.gather(read(), write())
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()


async def main():
    listen_host, _, port = sys.argv[1].rpartition(":")
    listen_host, port = listen_host or "127.0.0.1", int(port)
    host, target_port = sys.argv[2].rsplit(":", 1)
    delay = float(sys.argv[3]) / 1000.0

    async def handle(client_reader, client_writer):
        try:
            server_reader, server_writer = await asyncio.open_connection(host, int(target_port))
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(pipe(client_reader, server_writer, delay),
                             pipe(server_reader, client_writer, delay))

    server = await asyncio.start_server(handle, listen_host, port, backlog=1024)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
