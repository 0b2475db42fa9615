#!/usr/bin/env python3
"""An independent witness for closematrix on Linux.

Plays a few catalogue scenarios with Python's socket module (its own C code
path into the kernel: socket.recv/send, Python threads, socket timeouts) and
prints what each step returned as JSON: {"v4/close/idle": {"peer.recv":
{"class": "eof", "errno": "", "n": 0}, ...}, ...}. harness/witness_test.go
compares it with the Go harness. It shares no code with the harness; it only
follows the same scenario definitions (DESIGN.md section 3).
"""
import ctypes
import errno
import json
import socket
import struct
import sys
import threading
import time

BOUND = 0.15          # seconds before a call counts as blocked (the harness's default)
UNREAD = 1024
SEND = 32
CLASSES = {
    errno.ECONNRESET: "reset", errno.ECONNABORTED: "aborted", errno.EPIPE: "broken-pipe",
    errno.ESHUTDOWN: "shutdown", errno.ENOTCONN: "not-connected", errno.EBADF: "bad-descriptor",
    errno.ENOTSOCK: "not-socket", errno.EINTR: "interrupted", errno.ETIMEDOUT: "timed-out",
    errno.EAGAIN: "would-block",
}
libc = ctypes.CDLL(None, use_errno=True)
MSG_NOSIGNAL = 0x4000


def err(e):
    return {"class": CLASSES.get(e, "other"), "errno": errno.errorcode.get(e, str(e)), "n": 0}


def recv(s, timeout=BOUND):
    s.settimeout(timeout)
    try:
        b = s.recv(65536)
    except socket.timeout:
        return {"class": "blocked", "errno": "", "n": 0}
    except OSError as e:
        return err(e.errno)
    finally:
        s.settimeout(None)
    return {"class": "data" if b else "eof", "errno": "", "n": len(b)}


def send(s):
    try:
        n = s.send(b"\0" * SEND, MSG_NOSIGNAL)
    except OSError as e:
        return err(e.errno)
    settle(s)
    return {"class": "ok", "errno": "", "n": n}


def raw(fn, fd):
    """send/recv on a descriptor number the socket object no longer owns."""
    buf = ctypes.create_string_buffer(65536)
    n = fn(fd, buf, SEND if fn is libc.send else 65536, MSG_NOSIGNAL if fn is libc.send else 0)
    if n < 0:
        return err(ctypes.get_errno())
    return {"class": ("ok" if fn is libc.send else ("data" if n else "eof")), "errno": "", "n": n}


def settle(s):
    """Wait until tcpi_unacked (struct tcp_info, offset 24) is 0."""
    end = time.monotonic() + BOUND
    while time.monotonic() < end:
        info = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
        if struct.unpack_from("I", info, 24)[0] == 0:
            return
        time.sleep(0.0001)


def pair(family):
    fam, host = (socket.AF_INET, "127.0.0.1") if family == "v4" else (socket.AF_INET6, "::1")
    ln = socket.socket(fam, socket.SOCK_STREAM)
    ln.bind((host, 0))
    ln.listen(1)
    actor = socket.socket(fam, socket.SOCK_STREAM)
    actor.connect(ln.getsockname()[:2])
    peer, _ = ln.accept()
    ln.close()
    return actor, peer


def wait_pending(s, n):
    end = time.monotonic() + 2
    while time.monotonic() < end:
        if len(s.recv(65536, socket.MSG_PEEK | socket.MSG_DONTWAIT)) == n:
            return
        time.sleep(0.0001)
    raise RuntimeError("unread data did not land")


def play(sid):
    family, action, cond = sid.split("/")
    actor, peer = pair(family)
    out = {}
    if action == "abort":
        actor.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    if cond == "unread-at-actor":
        peer.send(b"\0" * UNREAD)
        wait_pending(actor, UNREAD)
    if cond == "unread-at-peer":
        actor.send(b"\0" * UNREAD)
        wait_pending(peer, UNREAD)
    blocked = {}
    if cond == "peer-blocked-recv":
        t = threading.Thread(target=lambda: blocked.update(r=recv(peer, 2)))
        t.start()
        time.sleep(0.05)  # a witness may sleep: it has no /proc signal wiring
    fd = actor.fileno()
    if action in ("close", "abort"):
        actor.detach()
        libc.close(fd)
    else:
        actor.shutdown({"shutdown-rd": socket.SHUT_RD, "shutdown-wr": socket.SHUT_WR,
                        "shutdown-rdwr": socket.SHUT_RDWR}[action])
    settle(peer)
    steps = {
        "close/idle": "peer.recv peer.send peer.send#2 peer.recv#2",
        "close/peer-blocked-recv": "peer.blocked-recv peer.send peer.send#2",
        "close/unread-at-actor": "peer.recv peer.send peer.send#2",
        "close/unread-at-peer": "peer.recv peer.recv#2 peer.send",
        "close/then-use": "actor.send actor.recv",
        "abort/idle": "peer.recv peer.recv#2 peer.send",
        "abort/unread-at-peer": "peer.recv peer.recv#2",
        "shutdown-wr/idle": "peer.recv actor.send peer.send actor.recv",
        "shutdown-rd/idle": "actor.recv peer.send actor.recv#2 actor.send peer.recv peer.send#2",
        "shutdown-rdwr/idle": "actor.recv actor.send peer.recv peer.send peer.send#2",
    }[action + "/" + cond]
    for name in steps.split():
        side, op = name.split("#")[0].split(".")
        if op == "blocked-recv":
            t.join()
            out[name] = blocked["r"]
        elif side == "actor" and action in ("close", "abort"):
            out[name] = raw(libc.send if op == "send" else libc.recv, fd)
        else:
            s = actor if side == "actor" else peer
            out[name] = recv(s) if op == "recv" else send(s)
    peer.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    peer.close()
    if action not in ("close", "abort"):
        actor.close()
    return out


if __name__ == "__main__":
    print(json.dumps({sid: play(sid) for sid in sys.argv[1:]}, indent=1))
