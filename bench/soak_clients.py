#!/usr/bin/env python3
"""The Python clients of bench/soak.sh, one kind per process, each through the proxy for a
fixed time with a few threads, counting every HTTP response it got by status so the soak can
compare requests made with event rows written. Stdlib only.

Kinds (each hits its own path, so rows can be counted per kind):
  prompts  JSON chat prompts POSTed to https://api.openai.com/v1/chat/completions (reached
           through the proxy's connect_to); every 10th carries a card number and must be
           refused 403 by the DLP rule, the rest must be 200.
  uploads  multipart file uploads POSTed to https://HOST/upload, 4 KiB to 512 KiB.
  ws       WebSocket sessions to wss://WSHOST/ws: upgrade (101), then text and binary messages
           both ways (the origin greets and echoes), checked byte for byte, then a close.
  slow     requests trickled byte by byte: the CONNECT head, the request head, and a body in
           small chunks, all well inside the proxy's timeouts.

Writes one JSON object: responses by status, expected-refusal count, unexpected outcomes
(wrong status, failed checks, errors without a response) with a few examples."""

import argparse
import collections
import http.client
import json
import os
import random
import socket
import ssl
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the checkout
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ws_echo import frame, read_frame, read_head  # noqa: E402

CARD = "card 4539 1488 0343 6467"  # a valid, non-test number: the default profile blocks it
WORDS = ("the quarterly planning meeting covered hiring budgets roadmap risks customer "
         "feedback release cycle design review latency storage migration summary please "
         "explain rewrite shorter version draft email team update").split()
TIMEOUT = 30


class Tally:
    """Counts shared by a kind's threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.status = collections.Counter()
        self.unexpected = collections.Counter()
        self.examples = []
        self.expected_refusals = 0
        self.extra = collections.Counter()

    def response(self, status, expected):
        with self.lock:
            self.status[str(status)] += 1
            if status != expected:
                self.bad(f"HTTP {status}, expected {expected}")
            elif status != 200 and status != 101:
                self.expected_refusals += 1

    def bad(self, what):
        # Called with or without the lock held by the caller's thread only through here.
        self.unexpected[what[:120]] += 1
        if len(self.examples) < 10:
            self.examples.append(what[:300])

    def error(self, e):
        with self.lock:
            self.bad(f"error without a response: {type(e).__name__}: {e}")

    def count(self, name, n=1):
        with self.lock:
            self.extra[name] += n


def text(rng, size):
    out, n = [], 0
    while n < size:
        w = rng.choice(WORDS)
        out.append(w)
        n += len(w) + 1
    return " ".join(out)


def tls_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # the proxy's minted leaf; like oha --insecure
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


class Http:
    """A keep-alive HTTPS connection through the proxy (CONNECT), renewed every 50 requests
    or when the server closes it."""

    def __init__(self, proxy, target, ctx):
        self.proxy, self.target, self.ctx, self.conn, self.used = proxy, target, ctx, None, 0

    def request(self, method, path, body, headers):
        if self.conn is None or self.used >= 50:
            self.close()
            self.conn = http.client.HTTPSConnection(*self.proxy, timeout=TIMEOUT, context=self.ctx)
            host, port = self.target
            self.conn.set_tunnel(host, port)
            self.used = 0
        self.used += 1
        try:
            self.conn.request(method, path, body=body, headers=headers)
            resp = self.conn.getresponse()
            resp.read()
        except Exception:
            self.close()
            raise
        if resp.will_close:
            self.close()
        return resp.status

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def prompts(a, tally, rng, deadline):
    client = Http(a.proxy, ("api.openai.com", 443), tls_context())
    n = 0
    while time.time() < deadline:
        n += 1
        size = rng.choice((200, 800, 2000, 8000, 32000, 100000))
        content = text(rng, size)
        secret = n % 10 == 0
        if secret:
            content = content[: size // 2] + f" {CARD} " + content[size // 2:]
        body = json.dumps({"model": "gpt-4o-mini",
                           "messages": [{"role": "user", "content": content}]}).encode()
        try:
            status = client.request("POST", "/v1/chat/completions", body,
                                    {"Content-Type": "application/json"})
            tally.response(status, 403 if secret else 200)
        except Exception as e:  # noqa: BLE001 - every failure is counted, none ends the run
            tally.error(e)
        time.sleep(a.pause)
    client.close()


def uploads(a, tally, rng, deadline):
    client = Http(a.proxy, a.target, tls_context())
    n = 0
    while time.time() < deadline:
        n += 1
        boundary = f"soak{rng.getrandbits(64):016x}"
        data = text(rng, rng.choice((4096, 32768, 131072, 524288))).encode()
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\n"
                f"upload {n}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
                f"filename=\"notes-{n}.txt\"\r\nContent-Type: text/plain\r\n\r\n").encode()
        body += data + f"\r\n--{boundary}--\r\n".encode()
        try:
            status = client.request("POST", "/upload", body,
                                    {"Content-Type": f"multipart/form-data; boundary={boundary}"})
            tally.response(status, 200)
        except Exception as e:  # noqa: BLE001
            tally.error(e)
        time.sleep(a.pause)
    client.close()


def tunnel(a, target, ctx, trickle=0.0):
    """A TLS socket to `target` through the proxy's CONNECT, the head trickled if asked."""
    raw = socket.create_connection(a.proxy, timeout=TIMEOUT)
    try:
        host, port = target
        send(raw, f"CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode(), trickle)
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = raw.recv(1)  # byte by byte: nothing of the TLS stream may be read here
            if not chunk:
                raise ConnectionError("proxy closed during CONNECT")
            head += chunk
        status_line = head.split(b"\r\n", 1)[0]
        if b" 200" not in status_line:
            raise ConnectionError(f"CONNECT answered {status_line!r}")
        return ctx.wrap_socket(raw, server_hostname=host)
    except Exception:
        raw.close()
        raise


def send(sock, data, trickle, chunk=1):
    if not trickle:
        sock.sendall(data)
        return
    for i in range(0, len(data), chunk):
        sock.sendall(data[i:i + chunk])
        time.sleep(trickle)


def status_of(head_lines):
    parts = head_lines[0].split(b" ", 2)
    return int(parts[1])


def ws(a, tally, rng, deadline):
    ctx = tls_context()
    host, port = a.ws_target
    while time.time() < deadline:
        try:
            sock = tunnel(a, a.ws_target, ctx)
        except Exception as e:  # noqa: BLE001
            tally.error(e)
            time.sleep(a.pause)
            continue
        try:
            rfile = sock.makefile("rb")
            key = "c29hay1iZW5jaC1rZXktMQ=="
            sock.sendall(f"GET /ws HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                         f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                         "Sec-WebSocket-Version: 13\r\n\r\n".encode())
            status = status_of(read_head(rfile))
            tally.response(status, 101)
            if status != 101:
                continue
            opcode, greeting = read_frame(rfile)
            if opcode != 0x1 or not greeting.startswith(b"hello"):
                tally.error(ValueError("no greeting from the origin"))
                continue
            tally.count("ws_messages_received")
            for i in range(a.messages):
                binary = i % 4 == 3
                payload = (os.urandom(rng.randint(1, 4096)) if binary
                           else text(rng, rng.choice((10, 200, 2000, 16000))).encode())
                sock.sendall(frame(0x2 if binary else 0x1, payload, os.urandom(4)))
                tally.count("ws_messages_sent")
                echo = read_frame(rfile)
                if echo != (0x2 if binary else 0x1, payload):
                    tally.error(ValueError("echo differs from the message sent"))
                    break
                tally.count("ws_messages_received")
                time.sleep(a.pause / a.messages)
            else:
                sock.sendall(frame(0x8, b"\x03\xe8", os.urandom(4)))
                if read_frame(rfile)[0] != 0x8:
                    tally.error(ValueError("no close frame back"))
        except Exception as e:  # noqa: BLE001
            tally.error(e)
        finally:
            sock.close()


def slow(a, tally, rng, deadline):
    ctx = tls_context()
    host, port = a.target
    n = 0
    while time.time() < deadline:
        n += 1
        try:
            sock = tunnel(a, a.target, ctx, trickle=a.trickle)
        except Exception as e:  # noqa: BLE001
            tally.error(e)
            continue
        try:
            body = text(rng, 2048).encode() if n % 2 else b""
            method = "POST" if body else "GET"
            head = (f"{method} /slow HTTP/1.1\r\nHost: {host}:{port}\r\nUser-Agent: soak-slow\r\n"
                    f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
            send(sock, head, a.trickle)
            send(sock, body, a.trickle * 2, chunk=16)
            rfile = sock.makefile("rb")
            tally.response(status_of(read_head(rfile)), 200)
        except Exception as e:  # noqa: BLE001
            tally.error(e)
        finally:
            sock.close()


def hostport(s):
    host, port = s.rsplit(":", 1)
    return host, int(port)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("kind", choices=("prompts", "uploads", "ws", "slow"))
    p.add_argument("--proxy", type=hostport, required=True)
    p.add_argument("--target", type=hostport, default=("localhost", 18443))
    p.add_argument("--ws-target", type=hostport, default=("localhost", 18444))
    p.add_argument("--seconds", type=float, required=True)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--pause", type=float, default=0.2, help="seconds between requests per thread")
    p.add_argument("--messages", type=int, default=20, help="messages per WebSocket session")
    p.add_argument("--trickle", type=float, default=0.01, help="seconds between trickled bytes")
    a = p.parse_args()
    work = {"prompts": prompts, "uploads": uploads, "ws": ws, "slow": slow}[a.kind]
    tally = Tally()
    deadline = time.time() + a.seconds
    threads = [threading.Thread(target=work, args=(a, tally, random.Random(i), deadline))
               for i in range(a.threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps({
        "kind": a.kind,
        "responses": sum(tally.status.values()),
        "status": dict(tally.status),
        "expected_refusals": tally.expected_refusals,
        "unexpected": sum(tally.unexpected.values()),
        "unexpected_kinds": dict(tally.unexpected),
        "examples": tally.examples,
        **dict(tally.extra),
    }))


if __name__ == "__main__":
    sys.exit(main())
