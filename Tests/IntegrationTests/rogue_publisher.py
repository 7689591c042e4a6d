"""A rogue publisher for the authenticated-bus test.

It makes a CURVE keypair of its own, tries to bind the risk gate's bus endpoint until the port is free
(the risk gate is being restarted), and then publishes the given order-command envelopes (valid
envelopes with src risk-gate, made by the test) again and again for a while. Every subscriber that pins
the risk gate's real key must fail the handshake and deliver nothing.

usage: rogue_publisher.py ENDPOINT ENVELOPES_FILE SECONDS
ENVELOPES_FILE: one message a line, `topic<TAB>envelope-hex`.
"""
import sys
import time

import zmq


def main() -> int:
    endpoint, envelopes_file, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    messages = []
    with open(envelopes_file) as handle:
        for line in handle:
            topic, payload = line.rstrip("\n").split("\t")
            messages.append((topic.encode(), bytes.fromhex(payload)))

    context = zmq.Context()
    public, secret = zmq.curve_keypair()
    socket = context.socket(zmq.PUB)
    socket.curve_server = True
    socket.curve_secretkey = secret
    socket.linger = 0
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.bind(endpoint)
            break
        except zmq.ZMQError:
            if time.monotonic() > deadline:
                print("never bound", flush=True)
                return 1
            time.sleep(0.002)
    print(f"bound {endpoint} as a CURVE server with key {public.decode()}", flush=True)

    sent = 0
    stop = time.monotonic() + seconds
    while time.monotonic() < stop:
        for topic, payload in messages:
            socket.send_multipart([topic, payload])
            sent += 1
        time.sleep(0.05)
    print(f"sent {sent} order commands", flush=True)
    socket.close()
    context.term()
    return 0


if __name__ == "__main__":
    sys.exit(main())
