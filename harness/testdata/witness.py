#!/usr/bin/env python3
"""An independent witness for closematrix on Linux.

Plays a few catalogue scenarios with Python's socket module (its own C code
path into the kernel: socket.recv/send, Python threads, socket timeouts,
select.poll; readiness through select.epoll, registered as the harness's
probes.Watch registers (EPOLLIN|EPOLLOUT|EPOLLRDHUP|EPOLLET, right after the
connection is set up, drained once just before the action); TCP states of
closed sockets from `ss`, i.e. sock_diag netlink, where the harness reads
/proc/net/tcp) and prints what each step returned as
JSON: {"v4/close/idle": {"peer.recv":
{"class": "eof", "errno": "", "n": 0}, ...}, ...}. harness/witness_test.go
compares it with the Go harness. It shares no code with the harness; it only
follows the same scenario definitions (DESIGN.md section 3).
"""
import ctypes
import errno
import json
import select
import socket
import struct
import subprocess
import sys
import threading
import time

BOUND = 0.10          # seconds before a call counts as blocked (the harness's default)
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


# Linux state numbers (include/net/tcp_states.h) and ss's spellings, to RFC 793 names.
STATES = {1: "ESTABLISHED", 2: "SYN_SENT", 3: "SYN_RECEIVED", 4: "FIN_WAIT_1", 5: "FIN_WAIT_2",
          6: "TIME_WAIT", 7: "CLOSED", 8: "CLOSE_WAIT", 9: "LAST_ACK", 10: "LISTEN", 11: "CLOSING"}
SS = {"ESTAB": "ESTABLISHED", "SYN-SENT": "SYN_SENT", "SYN-RECV": "SYN_RECEIVED",
      "FIN-WAIT-1": "FIN_WAIT_1", "FIN-WAIT-2": "FIN_WAIT_2", "TIME-WAIT": "TIME_WAIT",
      "CLOSE-WAIT": "CLOSE_WAIT", "LAST-ACK": "LAST_ACK", "CLOSING": "CLOSING"}
TRANSIENT = {"SYN_SENT", "SYN_RECEIVED", "FIN_WAIT_1", "CLOSING", "LAST_ACK"}


def ss_state(local, remote):
    """The state of a 4-tuple from ss(8), or "none" when it has no entry."""
    host = lambda a: "[%s]" % a[0] if ":" in a[0] else a[0]
    out = subprocess.run(["ss", "-tanH", "state", "all", "src", "%s:%d" % (host(local), local[1]),
                          "dst", "%s:%d" % (host(remote), remote[1])],
                         capture_output=True, text=True, check=True).stdout.split()
    return SS.get(out[0], out[0]) if out else "none"


def state(s, tup):
    if s is not None:
        info = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
        return {"class": STATES[info[0]], "errno": "", "n": 0}
    return {"class": ss_state(*tup), "errno": "", "n": 0}


def settle_closed(tup):
    end = time.monotonic() + BOUND
    while time.monotonic() < end and ss_state(*tup) in TRANSIENT:
        time.sleep(0.0001)


def poll(s):
    p = select.poll()
    p.register(s, select.POLLIN | select.POLLOUT | select.POLLRDHUP)
    ev = p.poll(0)[0][1] if p.poll(0) else 0
    names = sorted(n for b, n in [(select.POLLIN, "POLLIN"), (select.POLLOUT, "POLLOUT"),
                                  (select.POLLHUP, "POLLHUP"), (select.POLLERR, "POLLERR"),
                                  (select.POLLRDHUP, "POLLRDHUP")] if ev & b)
    pend = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    out = {"class": "|".join(names) or "none", "errno": "", "n": 0}
    if pend:
        out["errno"] = errno.errorcode[pend]
    return out


# The bits epoll_wait(2) can report for the registration below: the three
# asked for, and EPOLLERR and EPOLLHUP, which it always reports.
EPOLL_NAMES = [(select.EPOLLIN, "EPOLLIN"), (select.EPOLLOUT, "EPOLLOUT"), (select.EPOLLRDHUP, "EPOLLRDHUP"),
               (select.EPOLLERR, "EPOLLERR"), (select.EPOLLHUP, "EPOLLHUP"), (select.EPOLLPRI, "EPOLLPRI")]


def watch(s):
    """Registers s edge-triggered, as libuv and mio do (and probes.Watch)."""
    ep = select.epoll()
    ep.register(s.fileno(), select.EPOLLIN | select.EPOLLOUT | select.EPOLLRDHUP | select.EPOLLET)
    return ep


def events(ep):
    """What the registration delivered since the last read, without waiting."""
    mask = 0
    for _, ev in ep.poll(0):
        mask |= ev
    names = sorted(n for b, n in EPOLL_NAMES if mask & b)
    return {"class": "|".join(names) or "none", "errno": "", "n": 0}


def asleep(tid):
    """Waits until the thread whose native id lands in tid is asleep (state S
    in /proc/self/task/TID/stat, proc(5)): blocked in its recv."""
    end = time.monotonic() + 2
    while time.monotonic() < end:
        if tid:
            with open("/proc/self/task/%d/stat" % tid[0]) as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "S":
                    return
        time.sleep(0.0001)
    raise RuntimeError("the blocked-recv thread never slept")


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


def play(sid, only=None):
    """Plays sid; with only, observes that step alone (as the harness does
    with peer.poll, whose SO_ERROR read would change what later steps see)."""
    family, action, cond = sid.split("/")
    actor, peer = pair(family)
    tup = (actor.getsockname()[:2], actor.getpeername()[:2])
    out = {}
    observe = "actor.state peer.state peer.poll "
    steps = {
        "close/idle": "peer.events peer.recv peer.send peer.events#2 peer.send#2 peer.recv#2",
        "close/peer-blocked-recv": "peer.blocked-recv peer.send peer.send#2",
        "close/unread-at-actor": "peer.events peer.recv peer.send peer.send#2",
        "close/unread-at-peer": "peer.recv peer.recv#2 peer.send",
        "close/then-use": "actor.send actor.recv",
        "abort/idle": "peer.events peer.recv peer.recv#2 peer.send",
        "abort/unread-at-peer": "peer.recv peer.recv#2",
        "shutdown-wr/idle": "actor.events peer.events peer.recv actor.send peer.send actor.recv",
        "shutdown-rd/idle": "actor.events actor.recv peer.send actor.events#2 actor.recv#2 actor.send peer.recv peer.send#2",
        "shutdown-rdwr/idle": "actor.events peer.events actor.recv actor.send peer.recv peer.send peer.send#2",
    }[action + "/" + cond]
    # Registered where the harness registers: after connect/accept, before
    # the setup; in the run that observes the events steps (not the poll's).
    eps = {}
    if only is None:
        for side in ("actor", "peer"):
            if " %s.events" % side in " " + steps:
                eps[side] = watch(actor if side == "actor" else peer)
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
        tid = []
        t = threading.Thread(target=lambda: (tid.append(threading.get_native_id()), blocked.update(r=recv(peer, 2))))
        t.start()
        asleep(tid)
    for ep in eps.values():
        events(ep)  # the drain: the registration's first edge and the setup's
    fd = actor.fileno()
    if action in ("close", "abort"):
        actor.detach()
        libc.close(fd)
    else:
        actor.shutdown({"shutdown-rd": socket.SHUT_RD, "shutdown-wr": socket.SHUT_WR,
                        "shutdown-rdwr": socket.SHUT_RDWR}[action])
    settle(peer)
    if action in ("close", "abort"):
        settle_closed(tup)
    else:
        settle(actor)
    for name in (observe + steps).split():
        side, op = name.split("#")[0].split(".")
        if (only is not None) != (name == only) or (only is None and op == "poll"):
            continue
        s = actor if side == "actor" else peer
        if op == "state":
            closed = side == "actor" and action in ("close", "abort")
            out[name] = state(None if closed else s, tup)
        elif op == "poll":
            out[name] = poll(s)
        elif op == "events":
            out[name] = events(eps[side])
        elif op == "blocked-recv":
            t.join()
            out[name] = blocked["r"]
        elif side == "actor" and action in ("close", "abort"):
            out[name] = raw(libc.send if op == "send" else libc.recv, fd)
        else:
            out[name] = recv(s) if op == "recv" else send(s)
    for ep in eps.values():
        ep.close()
    peer.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    peer.close()
    if action not in ("close", "abort"):
        actor.close()
    return out


if __name__ == "__main__":
    seen = {}
    for sid in sys.argv[1:]:
        seen[sid] = play(sid)
        seen[sid].update(play(sid, only="peer.poll"))
    print(json.dumps(seen, indent=1))
