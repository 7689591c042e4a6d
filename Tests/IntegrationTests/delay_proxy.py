"""A TCP proxy that delays every chunk from the server by a number of milliseconds read
from a file, so a test can make a real ChromaDB slow without stopping it.

usage: delay_proxy.py LISTEN_PORT TARGET_HOST TARGET_PORT DELAY_FILE
Prints "listening on PORT" once ready. The delay file holds an integer (ms); absent is 0.
"""
import asyncio
import sys


def delay_ms(path):
    try:
        with open(path) as handle:
            return int(handle.read().strip() or 0)
    except (OSError, ValueError):
        return 0


async def pipe(reader, writer, delay_file=None):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            if delay_file is not None:
                delay = delay_ms(delay_file)
                if delay > 0:
                    await asyncio.sleep(delay / 1000)
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


async def main():
    listen_port, host, port, delay_file = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]

    async def handle(client_reader, client_writer):
        try:
            server_reader, server_writer = await asyncio.open_connection(host, port)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(
            pipe(client_reader, server_writer),
            pipe(server_reader, client_writer, delay_file),
        )

    server = await asyncio.start_server(handle, "127.0.0.1", listen_port)
    print(f"listening on {listen_port}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
