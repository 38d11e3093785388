#!/usr/bin/env python3
"""A recording HTTP forward proxy that only ever talks to loopback.

Chromium is started with ``--proxy-server=http://127.0.0.1:PORT --proxy-bypass-list=<-loopback>`` so that
every request it makes (loopback ones included, and those of sandboxed iframes) reaches this proxy. Each
request is recorded as one JSON line:

    {"time": 1733480000.123, "method": "GET", "url": "http://127.0.0.1:8080/x", "host": "127.0.0.1",
     "port": 8080, "action": "forwarded", "status": 200}
    {"time": ..., "method": "CONNECT", "url": "evil.example:443", "host": "evil.example", "port": 443,
     "action": "refused", "status": 403}

Only requests whose target host is literally 127.0.0.1, ::1 or localhost are forwarded (``localhost`` is
connected to as 127.0.0.1, so no name is ever resolved). Everything else, plain or CONNECT, is answered
403 before any outbound socket is opened. CONNECT to a loopback host is tunnelled (Chromium uses CONNECT
for https:// and ws://).

Standalone:  python3 loopback_proxy.py --port 0 --log /tmp/proxy.jsonl   (prints the chosen port, then
serves until SIGINT/SIGTERM). Importable: ``LoopbackProxy(log_path).start()`` and ``.records()``.
Standard library only.
"""

from __future__ import annotations

import argparse
import http.client
import http.server
import json
import select
import signal
import socket
import socketserver
import sys
import threading
import time
import urllib.parse

LOOPBACK_HOSTS = {"127.0.0.1": "127.0.0.1", "localhost": "127.0.0.1", "::1": "::1"}

HOP_BY_HOP = {
    "connection",
    "proxy-connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "trailers",
    "transfer-encoding",
    "upgrade",
}


def loopback_address(host: str | None) -> str | None:
    """The address to connect to for a target host, or None when the host is not loopback."""
    if host is None:
        return None
    h = host.strip().lower()
    if h.startswith("[") and h.endswith("]"):
        h = h[1:-1]
    return LOOPBACK_HOSTS.get(h)


def split_host_port(authority: str, default_port: int) -> tuple[str, int]:
    """'host:port', '[::1]:port' or 'host' -> (host, port). Raises ValueError on a malformed port."""
    authority = authority.strip()
    if authority.startswith("["):
        end = authority.find("]")
        if end < 0:
            raise ValueError("unterminated IPv6 literal")
        host = authority[1:end]
        rest = authority[end + 1 :]
        if rest.startswith(":"):
            return host, int(rest[1:])
        if rest:
            raise ValueError("junk after IPv6 literal")
        return host, default_port
    if authority.count(":") == 1:
        host, port = authority.split(":")
        return host, int(port)
    if ":" in authority:  # a bare IPv6 address without brackets
        return authority, default_port
    return authority, default_port


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "loopback-proxy"
    sys_version = ""

    # Every method (GET, POST, HEAD, PUT, DELETE, OPTIONS, PATCH, ...) goes through one path.
    def __getattr__(self, name: str):
        if name.startswith("do_"):
            return self._proxy_plain
        raise AttributeError(name)

    def do_CONNECT(self) -> None:  # noqa: N802 (http.server's naming)
        proxy: LoopbackProxy = self.server.proxy  # type: ignore[attr-defined]
        try:
            host, port = split_host_port(self.path, 443)
        except ValueError:
            proxy.record("CONNECT", self.path, None, None, "refused", 400)
            self._refuse(400, "malformed CONNECT target")
            return
        address = loopback_address(host)
        if address is None:
            proxy.record("CONNECT", self.path, host, port, "refused", 403)
            self._refuse(403, "loopback-proxy: only loopback hosts are reachable")
            return
        try:
            upstream = socket.create_connection((address, port), timeout=30)
        except OSError as e:
            proxy.record("CONNECT", self.path, host, port, "failed", 502, error=str(e))
            self._refuse(502, f"loopback-proxy: cannot connect: {e}")
            return
        proxy.record("CONNECT", self.path, host, port, "tunnelled", 200)
        self.send_response(200, "Connection Established")
        self.end_headers()
        self.wfile.flush()
        self._relay(self.connection, upstream)
        self.close_connection = True

    def _relay(self, a: socket.socket, b: socket.socket) -> None:
        sockets = [a, b]
        try:
            while True:
                readable, _, errored = select.select(sockets, [], sockets, 60)
                if errored or not readable:
                    return
                for s in readable:
                    data = s.recv(65536)
                    if not data:
                        return
                    (b if s is a else a).sendall(data)
        except OSError:
            return
        finally:
            b.close()

    def _proxy_plain(self) -> None:
        proxy: LoopbackProxy = self.server.proxy  # type: ignore[attr-defined]
        url = self.path
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme.lower() != "http" or not parsed.netloc:
            # Not an absolute http:// URL: nothing this proxy forwards (it is not an origin server).
            host = parsed.hostname if parsed.netloc else None
            proxy.record(self.command, url, host, None, "refused", 403 if parsed.netloc else 400)
            self._discard_body()
            self._refuse(403 if parsed.netloc else 400, "loopback-proxy: absolute http:// URLs to loopback only")
            return
        try:
            host, port = split_host_port(parsed.netloc.rsplit("@", 1)[-1], 80)
        except ValueError:
            proxy.record(self.command, url, None, None, "refused", 400)
            self._discard_body()
            self._refuse(400, "loopback-proxy: malformed host")
            return
        address = loopback_address(host)
        if address is None:
            proxy.record(self.command, url, host, port, "refused", 403)
            self._discard_body()
            self._refuse(403, "loopback-proxy: only loopback hosts are reachable")
            return
        body = self._read_body()
        target = urllib.parse.urlunsplit(("", "", parsed.path or "/", parsed.query, ""))
        headers = [(k, v) for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP]
        try:
            conn = http.client.HTTPConnection(address, port, timeout=60)
            conn.putrequest(self.command, target, skip_host=True, skip_accept_encoding=True)
            for k, v in headers:
                conn.putheader(k, v)
            if body is not None and not any(k.lower() == "content-length" for k, _ in headers):
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body)
            response = conn.getresponse()
            payload = response.read()
            status, reason = response.status, response.reason
            response_headers = response.getheaders()
            conn.close()
        except (OSError, http.client.HTTPException) as e:
            proxy.record(self.command, url, host, port, "failed", 502, error=str(e))
            self._refuse(502, f"loopback-proxy: upstream error: {e}")
            return
        proxy.record(self.command, url, host, port, "forwarded", status)
        self.send_response_only(status, reason)
        for k, v in response_headers:
            if k.lower() in HOP_BY_HOP or k.lower() == "content-length":
                continue
            self.send_header(k, v)
        no_body = self.command == "HEAD" or status in (204, 304) or 100 <= status < 200
        if not no_body:
            self.send_header("Content-Length", str(len(payload)))
        elif self.command == "HEAD":
            for k, v in response_headers:
                if k.lower() == "content-length":
                    self.send_header(k, v)
        self.end_headers()
        if not no_body:
            self.wfile.write(payload)
        self.wfile.flush()

    def _read_body(self) -> bytes | None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size_line = self.rfile.readline(65537)
                size = int(size_line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
            return b"".join(chunks)
        length = self.headers.get("Content-Length")
        if length is None:
            return None
        return self.rfile.read(int(length))

    def _discard_body(self) -> None:
        try:
            self._read_body()
        except (OSError, ValueError):
            self.close_connection = True

    def _refuse(self, code: int, message: str) -> None:
        body = (message + "\n").encode()
        self.send_response_only(code)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.wfile.flush()

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (http.server's signature)
        pass  # recorded as JSON lines instead


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def server_bind(self) -> None:
        # HTTPServer.server_bind would call socket.getfqdn (a name lookup); nothing here resolves names.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = host, port

    def handle_error(self, request, client_address) -> None:
        # A browser dropping a kept-alive connection is routine; anything else is worth a line.
        exc = sys.exc_info()[1]
        if not isinstance(exc, (ConnectionResetError, BrokenPipeError, TimeoutError)):
            print(f"loopback-proxy: error serving {client_address}: {exc!r}", file=sys.stderr)


class LoopbackProxy:
    """A running proxy: ``port``, ``records()`` (parsed log so far), ``stop()``."""

    def __init__(self, log_path: str | None = None, port: int = 0, host: str = "127.0.0.1") -> None:
        if loopback_address(host) is None:
            raise ValueError("the proxy listens on loopback only")
        self.log_path = log_path
        self._lock = threading.Lock()
        self._records: list[dict] = []
        self._log = open(log_path, "a", encoding="utf-8") if log_path else None
        server_class = _Server
        if ":" in host:
            server_class = type("_Server6", (_Server,), {"address_family": socket.AF_INET6})
        self._server = server_class((host, port), _Handler)
        self._server.proxy = self  # type: ignore[attr-defined]
        self.port: int = self._server.server_address[1]
        self._thread: threading.Thread | None = None

    def record(self, method: str, url: str, host: str | None, port: int | None, action: str, status: int | None, **extra) -> None:
        entry = {"time": time.time(), "method": method, "url": url, "host": host, "port": port, "action": action, "status": status}
        entry.update(extra)
        with self._lock:
            self._records.append(entry)
            if self._log:
                self._log.write(json.dumps(entry) + "\n")
                self._log.flush()

    def records(self, since: float = 0.0) -> list[dict]:
        with self._lock:
            return [dict(r) for r in self._records if r["time"] >= since]

    def start(self) -> "LoopbackProxy":
        self._thread = threading.Thread(target=self._server.serve_forever, name="loopback-proxy", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        with self._lock:
            if self._log:
                self._log.close()
                self._log = None

    def __enter__(self) -> "LoopbackProxy":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Recording HTTP proxy that forwards to loopback hosts only.")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0: any free port; it is printed)")
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to listen on")
    parser.add_argument("--log", default=None, help="JSON-lines file to append every request to")
    args = parser.parse_args(argv)
    proxy = LoopbackProxy(args.log, port=args.port, host=args.host)
    print(proxy.port, flush=True)
    def on_term(*_):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    try:
        proxy.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        proxy._server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
