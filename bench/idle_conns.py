#!/usr/bin/env python3
"""Opens N idle intercepted connections through a proxy and reports the proxy's memory per
connection: CONNECT, TLS handshake with the proxy's minted certificate, one keep-alive request,
then the connection is left open and idle while the proxy's resident memory is measured."""

import argparse
import json
import os
import socket
import ssl
import sys
import time


def rss_kib(pids):
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return total


def read_response(sock):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed before response head")
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed mid-body")
        body += chunk
    return head


def open_one(proxy, target, ctx):
    host = target.rsplit(":", 1)[0]
    raw = socket.create_connection(proxy, timeout=30)
    raw.sendall(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = raw.recv(4096)
        if not chunk:
            raise ConnectionError("proxy closed during CONNECT")
        head += chunk
    if b" 200" not in head.split(b"\r\n", 1)[0]:
        raise ConnectionError(f"CONNECT refused: {head[:80]!r}")
    tls = ctx.wrap_socket(raw, server_hostname=host)
    tls.sendall(f"GET /1k HTTP/1.1\r\nHost: {target}\r\n\r\n".encode())
    read_response(tls)
    return tls


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--proxy", required=True, help="host:port of the proxy")
    parser.add_argument("--target", required=True, help="host:port behind it")
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--pids", required=True, help="comma-separated pids whose RSS is summed")
    args = parser.parse_args()
    phost, pport = args.proxy.rsplit(":", 1)
    proxy = (phost, int(pport))
    pids = [int(p) for p in args.pids.split(",") if p]
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols(["http/1.1"])
    # Warm-up: mint/cache the leaf and fill upstream pools before the baseline.
    for _ in range(20):
        open_one(proxy, args.target, ctx).close()
    time.sleep(1)
    before = rss_kib(pids)
    conns = []
    started = time.time()
    for i in range(args.n):
        conns.append(open_one(proxy, args.target, ctx))
    opened = time.time() - started
    time.sleep(2)
    after = rss_kib(pids)
    per_conn = (after - before) / args.n
    print(json.dumps({
        "connections": args.n,
        "rss_before_kib": before,
        "rss_after_kib": after,
        "kib_per_connection": round(per_conn, 1),
        "open_seconds": round(opened, 1),
    }))
    for c in conns:
        c.close()


if __name__ == "__main__":
    sys.exit(main())
