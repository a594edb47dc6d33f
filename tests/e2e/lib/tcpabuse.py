#!/usr/bin/env python3
"""TCP abuse for the e2e suite (run inside the client namespace).

  tcpabuse.py hold SERVER N SECONDS      open N connections, hold them idle, print how many opened
  tcpabuse.py pipeline SERVER NAME N SECONDS
                                         send N pipelined queries for NAME on one connection
                                         without reading a byte; print how many were sent

Bounded in count and time; talks only to SERVER (an address inside the
test's namespaces)."""
import socket
import struct
import sys
import time


def query(qid, name):
    q = struct.pack(">HHHHHH", qid & 0xFFFF, 0x0100, 1, 0, 0, 0)
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\x00" + struct.pack(">HH", 1, 1)
    return struct.pack(">H", len(q)) + q


def hold(server, n, secs):
    socks = []
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(2)
        try:
            s.connect((server, 53))
            socks.append(s)
        except OSError:
            s.close()
    print(len(socks), flush=True)
    time.sleep(secs)
    for s in socks:
        s.close()


def pipeline(server, name, n, secs):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect((server, 53))
    s.setblocking(False)
    end = time.time() + secs
    sent = 0
    buf = b""
    while sent < n and time.time() < end:
        if not buf:
            buf = query(sent, name)
        try:
            k = s.send(buf)
            buf = buf[k:]
            if not buf:
                sent += 1
        except BlockingIOError:
            time.sleep(0.01)
    print(sent, flush=True)
    time.sleep(1)
    s.close()


if __name__ == "__main__":
    if sys.argv[1] == "hold":
        hold(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
    elif sys.argv[1] == "pipeline":
        pipeline(sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5]))
    else:
        sys.exit("usage: tcpabuse.py hold|pipeline ...")
