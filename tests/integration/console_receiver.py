#!/usr/bin/env python3
"""Listens on a unix socket as a console-socket peer (conmon, containerd do
this), receives the pty master over SCM_RIGHTS, writes `input` to it, and
prints everything the container writes until the pty closes.
Usage: console_receiver.py SOCKET_PATH READY_FILE [INPUT]"""
import os
import socket
import sys

path, ready = sys.argv[1], sys.argv[2]
data = sys.argv[3].encode() if len(sys.argv) > 3 else b""
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(1)
open(ready, "w").close()
srv.settimeout(30)
conn, _ = srv.accept()
msg, fds, _, _ = socket.recv_fds(conn, 256, 1)
if not fds:
    print("NO-FD", flush=True)
    sys.exit(1)
master = fds[0]
if data:
    os.write(master, data)
out = b""
while True:
    try:
        chunk = os.read(master, 4096)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
sys.stdout.write(out.decode(errors="replace"))
