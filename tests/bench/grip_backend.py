#!/usr/bin/python3
"""Minimal GRIP backend that lets Pushpin act as a plain channel-subscription push server.

Pushpin (route `* 127.0.0.1:PORT,over_http`) turns every client WebSocket into
WebSocket-over-HTTP POSTs (Content-Type application/websocket-events) to this backend. The
answer to a connection's OPEN event accepts it with the GRIP extension and subscribes it to the
channel named by its path, /ws/<channel>; from then on Pushpin alone delivers whatever is
published to that channel. Other events get the minimal sensible answer (CLOSE is echoed, PING
gets a PONG, everything else an empty event list).

A single-threaded asyncio HTTP/1.1 server with keep-alive and pipelining: Pushpin (through
zurl) reuses its connections to the backend, and a thread per request (http.server) would make
the backend, not Pushpin, the bottleneck when thousands of clients connect at once. With 2000
clients connecting, this backend uses about a tenth of the CPU Pushpin's processes use.

    /usr/bin/python3 tests/bench/grip_backend.py PORT
"""

import asyncio
import json
import sys
import urllib.parse

EVENTS_TYPE = b"application/websocket-events"
MAX_HEAD = 65536


def parse_events(body):
    """Splits a websocket-events body into (type, payload) pairs; payload is b"" when absent."""
    events = []
    pos = 0
    while pos < len(body):
        eol = body.index(b"\r\n", pos)
        name, _, hexlen = body[pos:eol].partition(b" ")
        pos = eol + 2
        payload = b""
        if hexlen:
            size = int(hexlen, 16)
            payload = body[pos:pos + size]
            pos += size + 2  # the payload is followed by its own CRLF
        events.append((name, payload))
    return events


def text_event(payload):
    return b"TEXT %x\r\n%s\r\n" % (len(payload), payload)


def channel_of(path):
    """/ws/<channel>[?query] -> channel (percent-decoded, as nginx does for nchan), or None."""
    path = path.split(b"?", 1)[0]
    if not path.startswith(b"/ws/") or len(path) == 4:
        return None
    return urllib.parse.unquote(path[4:].decode("ascii", "replace"))


def answer(path, events):
    """Returns (extra headers, body) for one WebSocket-over-HTTP request."""
    out = []
    for name, payload in events:
        if name == b"OPEN":
            channel = channel_of(path)
            if channel is None:
                return b"", b"CLOSE\r\n"  # refuse connections outside /ws/<channel>
            control = json.dumps({"type": "subscribe", "channel": channel}).encode()
            out.append(b"OPEN\r\n" + text_event(b"c:" + control))
        elif name == b"CLOSE":
            out.append(b"CLOSE\r\n")
        elif name == b"PING":
            out.append(b"PONG\r\n")
    return b"Sec-WebSocket-Extensions: grip\r\n", b"".join(out)


def parse_head(head):
    """Request line + headers -> (method, path, {lowercase name: value})."""
    lines = head.split(b"\r\n")
    method, path, _ = lines[0].split(b" ", 2)
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip()
    return method, path, headers


def response(status, extra, body, keep_alive):
    return (b"HTTP/1.1 %s\r\nContent-Type: %s\r\n%sContent-Length: %d\r\nConnection: %s\r\n\r\n%s"
            % (status, EVENTS_TYPE, extra, len(body), b"keep-alive" if keep_alive else b"close",
               body))


async def serve(reader, writer):
    """One backend connection: answers requests in order until the peer closes."""
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            method, path, headers = parse_head(head[:-4])
            body = await reader.readexactly(int(headers.get(b"content-length", b"0")))
            keep_alive = headers.get(b"connection", b"").lower() != b"close"
            if method == b"POST" and headers.get(b"content-type", b"").startswith(EVENTS_TYPE):
                extra, out = answer(path, parse_events(body))
                writer.write(response(b"200 OK", extra, out, keep_alive))
            else:
                writer.write(response(b"400 Bad Request", b"", b"", keep_alive))
            await writer.drain()
            if not keep_alive:
                break
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, ValueError):
        pass
    finally:
        writer.close()


async def main(port):
    server = await asyncio.start_server(serve, "127.0.0.1", port, limit=MAX_HEAD, backlog=1024)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
