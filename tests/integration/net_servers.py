#!/usr/bin/env python3
"""Upstream servers for test_policy_network.sh, run inside a network namespace
the test creates:
  net_servers.py http DIR PORT READY   HTTP/1.0 file server on [::]:PORT (dual stack)
  net_servers.py dns ADDR READY        DNS on ADDR:53/udp: every A query -> ADDR
READY is created once the socket listens."""
import http.server
import socket
import socketserver
import struct
import sys


def serve_http(root, port, ready):
    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=root, **kw)

        def log_message(self, *a):
            pass

    class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
        address_family = socket.AF_INET6
        daemon_threads = True
        allow_reuse_address = True

        def server_bind(self):
            self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            super().server_bind()

    srv = Server(("::", port), Handler)
    open(ready, "w").close()
    srv.serve_forever()


def serve_dns(addr, ready):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, 53))
    open(ready, "w").close()
    while True:
        q, peer = s.recvfrom(512)
        if len(q) < 12:
            continue
        end = 12
        while end < len(q) and q[end] != 0:
            end += q[end] + 1
        question = q[12:end + 5]
        qtype = struct.unpack("!H", q[end + 1:end + 3])[0] if end + 3 <= len(q) else 0
        answers = b""
        if qtype == 1:
            answers = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + socket.inet_aton(addr)
        head = q[:2] + struct.pack("!HHHHH", 0x8180, 1, 1 if answers else 0, 0, 0)
        s.sendto(head + question + answers, peer)


if __name__ == "__main__":
    if sys.argv[1] == "http":
        serve_http(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    else:
        serve_dns(sys.argv[2], sys.argv[3])
