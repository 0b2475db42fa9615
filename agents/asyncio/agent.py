#!/usr/bin/env python3
"""closematrix agent, protocol 1 (docs/agent-protocol.md): CPython's asyncio
protocols and transports on the platform's default event loop
(asyncio.new_event_loop(): ProactorEventLoop on Windows, the selector loop
elsewhere); the loop's class and selector are in the hello.

Every connection's protocol pauses reading as soon as it is made, so that
data the program has not asked for stays in the kernel (the unread setups
need it there); recv resumes reading until the protocol is told something
(data_received, eof_received, connection_lost), then pauses again: what
asyncio.StreamReader.read does. send is transport.write() followed by what
StreamWriter.drain() does: wait while the protocol is paused for writing,
and fail with the exception connection_lost carried, or
ConnectionResetError('Connection lost') when it carried none
(asyncio/streams.py, FlowControlMixin._drain_helper). eof_received returns
None, the default: the transport then closes itself. abort is
transport.abort(). Answers carry the protocol's callbacks since the last
answer about the connection as events. Standard library only.
"""

import asyncio
import errno
import itertools
import json
import os
import platform
import socket
import sys
import threading

PROTOCOL = 1
OPS = ["listen", "close-listener", "accept", "dial", "send", "recv", "shutdown",
       "close", "abort", "pause-reading"]
KNOWN = OPS + ["set-linger", "fill"]
NOT_HERE = {
    "set-linger": "asyncio transports have no SO_LINGER; a lingering close would block the event loop",
    "fill": "transport.write() never blocks: it buffers in user space, so the kernel's send buffer is not what fills",
}

_names = itertools.count(1)
_zeros = {}


def zeros(n):
    # One zero buffer per size, reused (bytes are immutable): the blocked
    # send's 64 MiB would otherwise be allocated on the loop every time.
    if n not in _zeros:
        _zeros[n] = bytes(n)
    return _zeros[n]
_objs = {}


def emit(obj):
    sys.stdout.write(json.dumps(obj, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def family(f):
    if f == "v4":
        return socket.AF_INET, "127.0.0.1"
    if f == "v6":
        return socket.AF_INET6, "::1"
    raise KeyError("family %r: want v4 or v6" % f)


def addr(sa):
    host, port = sa[0], sa[1]
    return "[%s]:%d" % (host, port) if ":" in host else "%s:%d" % (host, port)


def error_of(e):
    d = {"type": type(e).__name__, "message": str(e)}
    num = getattr(e, "winerror", None) or getattr(e, "errno", None)
    if isinstance(num, int) and num:
        d["errno"] = num
        name = errno.errorcode.get(num)
        if name:
            d["name"] = name
    return d


def lost_words(exc):
    if exc is None:
        return "connection_lost(None)"
    name = errno.errorcode.get(getattr(exc, "errno", None) or 0)
    return "connection_lost(%s%s)" % (type(exc).__name__, " " + name if name else "")


class Conn(asyncio.Protocol):
    def __init__(self, loop, queue=None):
        self.loop = loop
        self.queue = queue
        self.transport = None
        self.buf = bytearray()
        self.eof = False
        self.lost = False
        self.exc = None
        self.events = []
        self.changed = loop.create_future()
        self.write_paused = False
        self.name = None
        self.local = self.remote = None

    def _wake(self):
        if not self.changed.done():
            self.changed.set_result(None)

    def connection_made(self, transport):
        self.transport = transport
        transport.pause_reading()
        sock = transport.get_extra_info("socket")
        self.local, self.remote = addr(sock.getsockname()), addr(sock.getpeername())
        if self.queue is not None:
            self.queue.put_nowait(self)

    def data_received(self, data):
        self.buf += data
        self._wake()

    def eof_received(self):
        self.eof = True
        self.events.append("eof_received")
        self._wake()
        return None  # the default: the transport closes itself

    def connection_lost(self, exc):
        self.lost = True
        self.exc = exc
        self.events.append(lost_words(exc))
        self._wake()

    def pause_writing(self):
        self.write_paused = True

    def resume_writing(self):
        self.write_paused = False
        self._wake()

    async def wait(self):
        if self.changed.done():
            self.changed = self.loop.create_future()
        await self.changed

    def take_events(self):
        ev, self.events = self.events, []
        return ev


def register(prefix, obj):
    name = "%s%d" % (prefix, next(_names))
    _objs[name] = obj
    return name


def conn_answer(c):
    c.name = register("c", c)
    return {"status": "ok", "conn": c.name, "local": c.local, "remote": c.remote}


class Listener:
    def __init__(self, loop):
        self.queue = asyncio.Queue()
        self.server = None


async def op_listen(loop, cmd):
    fam, host = family(cmd["family"])
    s = socket.socket(fam, socket.SOCK_STREAM)
    try:
        s.bind((host, 0))
    except BaseException:
        s.close()
        raise
    ln = Listener(loop)
    ln.server = await loop.create_server(lambda: Conn(loop, ln.queue), sock=s, backlog=16)
    return {"status": "ok", "listener": register("l", ln), "port": s.getsockname()[1]}


async def op_close_listener(loop, cmd):
    _objs[cmd["listener"]].server.close()
    return {"status": "ok"}


async def op_accept(loop, cmd):
    ln = _objs[cmd["listener"]]
    emit({"id": cmd["id"], "started": True})
    return conn_answer(await ln.queue.get())


async def op_dial(loop, cmd):
    fam, host = family(cmd["family"])
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setblocking(False)
    try:
        await loop.sock_connect(s, (host, int(cmd["port"])))
        _, c = await loop.create_connection(lambda: Conn(loop), sock=s)
    except BaseException:
        s.close()
        raise
    return conn_answer(c)


def with_events(c, ans):
    ev = c.take_events()
    if ev:
        ans["events"] = ev
    return ans


async def op_send(loop, cmd):
    c = _objs[cmd["conn"]]
    emit({"id": cmd["id"], "started": True})
    c.transport.write(zeros(int(cmd["n"])))
    # StreamWriter.drain(): one turn of the loop when closing, then wait
    # while paused for writing; a lost connection raises.
    await asyncio.sleep(0)
    while c.write_paused and not c.lost:
        await c.wait()
    if c.exc is not None:
        return with_events(c, {"status": "error", "error": error_of(c.exc)})
    if c.lost:
        return with_events(c, {"status": "error", "error": {
            "type": "ConnectionResetError", "message": "Connection lost"}})
    return with_events(c, {"status": "ok", "n": int(cmd["n"])})


async def op_recv(loop, cmd):
    c = _objs[cmd["conn"]]
    emit({"id": cmd["id"], "started": True})
    mx = int(cmd["max"])
    while True:
        if c.buf:
            n = min(mx, len(c.buf))
            del c.buf[:n]
            return with_events(c, {"status": "ok", "n": n})
        if c.exc is not None:
            return with_events(c, {"status": "error", "error": error_of(c.exc)})
        if c.eof or c.lost:
            return with_events(c, {"status": "ok", "n": 0})
        c.transport.resume_reading()
        try:
            await c.wait()
        finally:
            if not c.transport.is_closing():
                c.transport.pause_reading()


async def op_shutdown(loop, cmd):
    c = _objs[cmd["conn"]]
    if cmd["how"] != "wr":
        return {"status": "unsupported",
                "reason": "asyncio transports shut down only the sending side (write_eof)"}
    c.transport.write_eof()
    await asyncio.sleep(0)
    return with_events(c, {"status": "ok"})


async def op_close(loop, cmd):
    c = _objs[cmd["conn"]]
    c.transport.close()
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    return with_events(c, {"status": "ok"})


async def op_abort(loop, cmd):
    c = _objs[cmd["conn"]]
    c.transport.abort()
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    return with_events(c, {"status": "ok"})


async def op_pause_reading(loop, cmd):
    _objs[cmd["conn"]].transport.pause_reading()
    return {"status": "ok"}


HANDLERS = {
    "listen": op_listen, "close-listener": op_close_listener, "accept": op_accept,
    "dial": op_dial, "send": op_send, "recv": op_recv, "shutdown": op_shutdown,
    "close": op_close, "abort": op_abort, "pause-reading": op_pause_reading,
}


async def serve(loop, cmd):
    try:
        ans = await HANDLERS[cmd["op"]](loop, cmd)
    except (KeyError, ValueError, TypeError) as e:
        ans = {"status": "bad-request", "reason": "%s: %r" % (type(e).__name__, e.args[0] if e.args else "")}
    except Exception as e:  # OSError and the rest: the runtime's answer
        ans = {"status": "error", "error": error_of(e)}
    ans["id"] = cmd["id"]
    emit(ans)


def dispatch(loop, line):
    try:
        cmd = json.loads(line)
        cid = cmd["id"]
        op = cmd["op"]
    except (ValueError, KeyError, TypeError) as e:
        emit({"id": 0, "status": "bad-request", "reason": "unreadable command: %s" % e})
        return
    if op not in HANDLERS:
        if op in KNOWN:
            emit({"id": cid, "status": "unsupported", "reason": NOT_HERE[op]})
        else:
            emit({"id": cid, "status": "bad-request", "reason": "unknown op %r" % op})
        return
    loop.create_task(serve(loop, cmd))


def main():
    # --loop=selector: the selector loop whatever the platform's default
    # (on Windows the default is ProactorEventLoop, and the two differ:
    # python/cpython#109215, python/asyncio#319): the asyncio-selector view.
    if "--loop=selector" in sys.argv[1:]:
        loop = asyncio.SelectorEventLoop()
    else:
        loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    selector = getattr(loop, "_selector", None)  # private; the name only
    name = type(loop).__name__ + ("(%s)" % type(selector).__name__ if selector is not None else "")
    emit({"protocol": PROTOCOL, "runtime": platform.python_implementation(),
          "version": platform.python_version(), "api": "asyncio", "ops": OPS,
          "thread_ids": False, "abort": "transport.abort()", "loop": name,
          "options": {"eof_received": "returns None (the transport closes itself)"},
          "pid": os.getpid()})
    done = loop.create_future()

    def read_stdin():
        # Lines are read on a thread (a pipe on stdin cannot be added to
        # the Proactor loop) and handed to the loop.
        for line in sys.stdin:
            line = line.strip()
            if line:
                loop.call_soon_threadsafe(dispatch, loop, line)
        loop.call_soon_threadsafe(lambda: done.done() or done.set_result(None))

    threading.Thread(target=read_stdin, daemon=True).start()
    loop.run_until_complete(done)
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
