#!/usr/bin/env python3
"""A small WebSocket echo origin for bench/soak.sh: TLS on loopback, one thread per
connection. After the handshake it sends a greeting, then echoes every text or binary message
back (unmasked, as a server must) and answers a close frame with a close. It never reads more
than MAX_MESSAGE per message and drops a connection idle for IDLE seconds. Stdlib only."""

import argparse
import base64
import hashlib
import socket
import ssl
import struct
import sys
import threading

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
MAX_MESSAGE = 1 << 20
IDLE = 60


def read_exact(rfile, n):
    data = rfile.read(n)
    if len(data) != n:
        raise ConnectionError("closed")
    return data


def xor_mask(data, mask):
    n = len(data)
    key = (mask * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "big") ^ int.from_bytes(key, "big")).to_bytes(n, "big")


def read_frame(rfile):
    """(opcode, payload) of one frame, masked (from a client) or not (from a server)."""
    b0, b1 = read_exact(rfile, 2)
    length = b1 & 0x7F
    if length == 126:
        length = struct.unpack("!H", read_exact(rfile, 2))[0]
    elif length == 127:
        length = struct.unpack("!Q", read_exact(rfile, 8))[0]
    if length > MAX_MESSAGE:
        raise ConnectionError("frame too large")
    mask = read_exact(rfile, 4) if b1 & 0x80 else b"\0\0\0\0"
    payload = xor_mask(read_exact(rfile, length), mask)
    return b0 & 0x0F, payload


def frame(opcode, payload, mask=None):
    """One final frame; `mask` (4 bytes) for a client's frame."""
    n = len(payload)
    bit = 0x80 if mask else 0
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, bit | n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, bit | 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, bit | 127, n)
    return head + mask + xor_mask(payload, mask) if mask else head + payload


def read_head(rfile):
    """The lines of an HTTP head (request or response), without the blank line."""
    lines = []
    while True:
        line = rfile.readline(8192)
        if not line.endswith(b"\n") or len(lines) > 100:
            raise ConnectionError("no complete head")
        if line in (b"\r\n", b"\n"):
            return lines
        lines.append(line.rstrip(b"\r\n"))


def handshake(sock, rfile):
    key = None
    for line in read_head(rfile)[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"sec-websocket-key":
            key = value.strip()
    if key is None:
        sock.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        raise ConnectionError("not a websocket request")
    accept = base64.b64encode(hashlib.sha1(key + GUID).digest())
    sock.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                 b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n")


def serve(ctx, raw):
    conn = raw
    try:
        raw.settimeout(10)
        conn = ctx.wrap_socket(raw, server_side=True)
        conn.settimeout(IDLE)
        rfile = conn.makefile("rb")
        handshake(conn, rfile)
        conn.sendall(frame(0x1, b"hello from the origin"))
        while True:
            opcode, payload = read_frame(rfile)
            if opcode == 0x8:
                conn.sendall(frame(0x8, payload[:2] or b"\x03\xe8"))
                return
            if opcode == 0x9:
                conn.sendall(frame(0xA, payload))
            elif opcode in (0x1, 0x2):
                conn.sendall(frame(opcode, payload))
    except (OSError, ConnectionError, ValueError):
        pass
    finally:
        conn.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    a = p.parse_args()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    ctx.set_alpn_protocols(["http/1.1"])
    srv = socket.create_server(("127.0.0.1", a.port), backlog=512)
    while True:
        raw, _ = srv.accept()
        threading.Thread(target=serve, args=(ctx, raw), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
