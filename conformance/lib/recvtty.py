#!/usr/bin/env python3
"""Console-socket receiver: recvtty.py SOCKET OUTFILE [INPUT].

Listens on the unix socket SOCKET, receives one file descriptor (the pty
master) via SCM_RIGHTS, writes INPUT (if any) to it, then copies everything
read from it to OUTFILE until EOF/EIO. Writes OUTFILE.fdinfo with the
/proc/self/fdinfo-derived facts (the fd is a pty master) for the cases.
"""
import os, socket, sys, signal

signal.alarm(40)
path, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
s.listen(1)
conn, _ = s.accept()
msg, fds, flags, addr = socket.recv_fds(conn, 4096, 4)
if not fds:
    open(out + ".error", "w").write("no fd received\n")
    sys.exit(1)
fd = fds[0]
with open(out + ".fdinfo", "w") as f:
    f.write(os.readlink("/proc/self/fd/%d" % fd) + "\n")
if len(sys.argv) > 3:
    os.write(fd, sys.argv[3].encode())
with open(out, "wb", buffering=0) as f:
    while True:
        try:
            b = os.read(fd, 4096)
        except OSError:
            break
        if not b:
            break
        f.write(b)
open(out + ".done", "w").close()
