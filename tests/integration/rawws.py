"""A minimal WebSocket client over a raw socket, for tests that must see or send exact frames
(keep-alive timing, framing that RFC 6455 says to fail), which a WebSocket library would
either hide or refuse to produce."""
import os
import socket
import struct
import time


class RawWS:
    """Connects to pushd's unix socket (path) or to host:port (nginx in front) and upgrades."""

    def __init__(self, path=None, port=None, host="127.0.0.1", url="/api/ws"):
        if port is None:
            self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.s.settimeout(10)
            self.s.connect(path)
        else:
            self.s = socket.create_connection((host, port), timeout=10)
        self.s.sendall(f"GET {url} HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
                       "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                       "Sec-WebSocket-Version: 13\r\n\r\n".encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            chunk = self.s.recv(4096)
            if not chunk:
                raise EOFError("closed during the handshake")
            self.buf += chunk
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 101"), head

    def _need(self, n, deadline):
        while len(self.buf) < n:
            self.s.settimeout(max(0.01, deadline - time.monotonic()))
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError
            self.buf += chunk

    def frame(self, timeout):
        """(opcode, payload) of the next frame; EOFError when the server closes the socket."""
        deadline = time.monotonic() + timeout
        self._need(2, deadline)
        n = self.buf[1] & 0x7F
        off = 2
        if n == 126:
            self._need(4, deadline)
            n, off = struct.unpack(">H", self.buf[2:4])[0], 4
        elif n == 127:
            self._need(10, deadline)
            n, off = struct.unpack(">Q", self.buf[2:10])[0], 10
        self._need(off + n, deadline)
        op, payload = self.buf[0] & 0x0F, self.buf[off:off + n]
        self.buf = self.buf[off + n:]
        return op, payload

    def close_frame(self, timeout=3):
        """(code, reason bytes) of the server's Close, skipping frames before it."""
        deadline = time.monotonic() + timeout
        while True:
            op, payload = self.frame(max(0.01, deadline - time.monotonic()))
            if op == 0x8:
                code = struct.unpack(">H", payload[:2])[0] if len(payload) >= 2 else None
                return code, payload[2:]

    @staticmethod
    def header(op, length, fin=True, masked=True):
        """A frame header announcing length payload bytes (with a zero mask key when masked)."""
        b0 = (0x80 if fin else 0) | op
        m = 0x80 if masked else 0
        if length < 126:
            h = bytes([b0, m | length])
        elif length < 65536:
            h = bytes([b0, m | 126]) + struct.pack(">H", length)
        else:
            h = bytes([b0, m | 127]) + struct.pack(">Q", length)
        return h + (b"\0\0\0\0" if masked else b"")

    def send(self, op, payload=b"", fin=True, masked=True):
        """One frame; masked with a random key like a browser, or not masked at all."""
        if not masked:
            self.s.sendall(self.header(op, len(payload), fin, masked=False) + payload)
            return
        key = os.urandom(4)
        body = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
        self.s.sendall(self.header(op, len(payload), fin)[:-4] + key + body)

    def send_raw(self, data):
        self.s.sendall(data)

    def wait_eof(self, timeout):
        """Seconds until the server closes the TCP connection; AssertionError if it does not."""
        t0 = deadline = time.monotonic()
        deadline += timeout
        while time.monotonic() < deadline:
            self.s.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                if not self.s.recv(65536):
                    return time.monotonic() - t0
            except socket.timeout:
                break
            except ConnectionResetError:
                return time.monotonic() - t0
        raise AssertionError(f"server kept the connection open for {timeout}s")

    def close(self):
        self.s.close()
