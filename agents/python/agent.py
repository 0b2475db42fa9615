#!/usr/bin/env python3
"""closematrix agent, protocol 1 (docs/agent-protocol.md): CPython's socket
module, every call a blocking call on a thread of its own.

One JSON object per line: the hello first, then one answer per command, in
any order, matched by id. A blocking call (accept, recv, send) first says
"started" with its thread's native id (threading.get_native_id), so that the
harness can see the thread asleep in the kernel. The agent exits when its
stdin closes. Standard library only.
"""

import errno
import itertools
import json
import os
import platform
import socket
import struct
import sys
import threading

PROTOCOL = 1
OPS = ["listen", "close-listener", "accept", "dial", "send", "recv", "shutdown",
       "close", "abort", "set-linger", "fill"]
KNOWN = OPS + ["pause-reading"]
HOWS = {"rd": socket.SHUT_RD, "wr": socket.SHUT_WR, "rdwr": socket.SHUT_RDWR}

_out = threading.Lock()
_objs = {}
_objs_lock = threading.Lock()
_names = itertools.count(1)


def emit(obj):
    line = json.dumps(obj, separators=(",", ":")) + "\n"
    with _out:
        sys.stdout.write(line)
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
    """The exception in CPython's own words: its class, the OS error number
    (on Windows OSError.winerror, the WSA code; errno elsewhere) and name."""
    d = {"type": type(e).__name__, "message": str(e)}
    num = getattr(e, "winerror", None) or getattr(e, "errno", None)
    if isinstance(num, int) and num:
        d["errno"] = num
        name = errno.errorcode.get(num)
        if name:
            d["name"] = name
    return d


def register(prefix, obj):
    name = "%s%d" % (prefix, next(_names))
    with _objs_lock:
        _objs[name] = obj
    return name


def lookup(name):
    with _objs_lock:
        return _objs[name]


def conn_answer(s):
    name = register("c", s)
    return {"status": "ok", "conn": name, "local": addr(s.getsockname()), "remote": addr(s.getpeername())}


def started(cid):
    emit({"id": cid, "started": True, "tid": threading.get_native_id()})


def op_listen(cmd):
    fam, host = family(cmd["family"])
    s = socket.socket(fam, socket.SOCK_STREAM)
    try:
        s.bind((host, 0))
        s.listen(16)
    except BaseException:
        s.close()
        raise
    return {"status": "ok", "listener": register("l", s), "port": s.getsockname()[1]}


def op_close_listener(cmd):
    lookup(cmd["listener"]).close()
    return {"status": "ok"}


def op_accept(cmd):
    ln = lookup(cmd["listener"])
    started(cmd["id"])
    s, _ = ln.accept()
    return conn_answer(s)


def op_dial(cmd):
    fam, host = family(cmd["family"])
    s = socket.socket(fam, socket.SOCK_STREAM)
    try:
        s.connect((host, int(cmd["port"])))
    except BaseException:
        s.close()
        raise
    return conn_answer(s)


def op_send(cmd):
    s = lookup(cmd["conn"])
    data = bytes(int(cmd["n"]))
    started(cmd["id"])
    s.sendall(data)  # what Python programs call; raises on the first error
    return {"status": "ok", "n": len(data)}


def op_recv(cmd):
    s = lookup(cmd["conn"])
    started(cmd["id"])
    data = s.recv(int(cmd["max"]))
    return {"status": "ok", "n": len(data)}


def op_shutdown(cmd):
    lookup(cmd["conn"]).shutdown(HOWS[cmd["how"]])
    return {"status": "ok"}


def op_close(cmd):
    lookup(cmd["conn"]).close()
    return {"status": "ok"}


def linger(on, secs):
    # struct linger: two ints on POSIX (socket(7)), two u_shorts on Windows
    # (winsock2.h, struct linger { u_short l_onoff; u_short l_linger; }).
    fmt = "HH" if sys.platform == "win32" else "ii"
    return struct.pack(fmt, 1 if on else 0, secs)


def op_abort(cmd):
    s = lookup(cmd["conn"])
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger(True, 0))
    s.close()
    return {"status": "ok"}


def op_set_linger(cmd):
    lookup(cmd["conn"]).setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                   linger(bool(cmd.get("on")), int(cmd.get("secs", 0))))
    return {"status": "ok"}


def op_fill(cmd):
    """Queue data without blocking until the send buffer is full (the
    unsent-at-actor setup): non-blocking sends until BlockingIOError."""
    s = lookup(cmd["conn"])
    total = 0
    chunk = bytes(64 << 10)
    s.setblocking(False)
    try:
        while True:
            total += s.send(chunk)
    except BlockingIOError:
        pass
    finally:
        s.setblocking(True)
    return {"status": "ok", "n": total}


HANDLERS = {
    "listen": op_listen, "close-listener": op_close_listener, "accept": op_accept,
    "dial": op_dial, "send": op_send, "recv": op_recv, "shutdown": op_shutdown,
    "close": op_close, "abort": op_abort, "set-linger": op_set_linger, "fill": op_fill,
}


def serve(cmd):
    cid = cmd["id"]
    try:
        ans = HANDLERS[cmd["op"]](cmd)
    except (KeyError, ValueError, TypeError) as e:
        # A missing field, an unknown name: the command, not the socket.
        if isinstance(e, OSError):
            raise
        ans = {"status": "bad-request", "reason": "%s: %r" % (type(e).__name__, e.args[0] if e.args else "")}
    except OSError as e:
        ans = {"status": "error", "error": error_of(e)}
    except Exception as e:  # any other exception is still the runtime's answer
        ans = {"status": "error", "error": error_of(e)}
    ans["id"] = cid
    emit(ans)


def main():
    emit({"protocol": PROTOCOL, "runtime": platform.python_implementation(),
          "version": platform.python_version(), "api": "socket", "ops": OPS,
          "thread_ids": True, "abort": "setsockopt(SO_LINGER {1, 0}), then close()",
          "pid": os.getpid()})
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            cmd = json.loads(line)
            cid = cmd["id"]
            op = cmd["op"]
        except (ValueError, KeyError, TypeError) as e:
            emit({"id": 0, "status": "bad-request", "reason": "unreadable command: %s" % e})
            continue
        if op not in HANDLERS:
            if op in KNOWN:
                emit({"id": cid, "status": "unsupported",
                      "reason": "a blocking socket reads only inside recv: there is no reading to pause"})
            else:
                emit({"id": cid, "status": "bad-request", "reason": "unknown op %r" % op})
            continue
        threading.Thread(target=serve, args=(cmd,), daemon=True).start()
    sys.stdout.flush()
    os._exit(0)  # threads still blocked in calls do not hold the exit


if __name__ == "__main__":
    main()
