"""The floor of any broadcast: one ``send()`` per socket, with nothing else around it.

``python -m bench.send_floor PORT COUNT`` accepts COUNT connections, then, each time the first
one sends a line, writes a 40-byte frame to every connection in a plain loop of blocking
``socket.send`` calls and answers on the first one how many microseconds the loop took. A
server that writes one frame per connection (the project, the guide, Node's ``ws``) cannot
broadcast faster than this on the same machine and core.
"""

import socket
import sys
import time

FRAME = b"\x81\x26" + b"x" * 38


def main() -> None:
    port, count = int(sys.argv[1]), int(sys.argv[2])
    listener = socket.create_server(("127.0.0.1", port), backlog=count)
    connections = [listener.accept()[0] for _ in range(count)]
    first = connections[0]
    reader = first.makefile("rb")
    while reader.readline():
        started = time.perf_counter()
        for connection in connections:
            connection.send(FRAME)
        elapsed = time.perf_counter() - started
        first.sendall(f"{elapsed * 1e6:.0f}\n".encode())


if __name__ == "__main__":
    main()
