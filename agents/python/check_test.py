"""Independent check of the python view (closematrix issue 18, point 6): the
same four scenarios played on CPython sockets directly, not through the
agent, printing what each step saw as one JSON object on the last line.
agents/check_test.go runs it and compares with the agent's cells.

Run: python3 -m unittest agents/python/check_test.py
"""
import json
import socket
import struct
import time
import unittest

SEEN = {}


def word(f):
    """A call's result as the matrix's class word."""
    try:
        r = f()
    except ConnectionResetError:
        return "reset"
    except BrokenPipeError:
        return "broken-pipe"
    except OSError as e:
        return "OSError %s" % e.errno
    if isinstance(r, bytes):
        return "data %d" % len(r) if r else "eof"
    return "ok"


def pair():
    ln = socket.socket()
    ln.bind(("127.0.0.1", 0))
    ln.listen(1)
    actor = socket.create_connection(ln.getsockname())
    peer, _ = ln.accept()
    ln.close()
    return actor, peer


def settle():
    # The harness waits on the system's table; here, a plain pause for the
    # FIN or RST to cross loopback (microseconds) on a loaded machine.
    time.sleep(0.05)


def abort(s):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


class Check(unittest.TestCase):
    def test_close_idle(self):
        actor, peer = pair()
        actor.close()
        settle()
        seen = {"peer.recv": word(lambda: peer.recv(65536)),
                "peer.send": word(lambda: peer.sendall(bytes(32)))}
        settle()
        seen["peer.send#2"] = word(lambda: peer.sendall(bytes(32)))
        peer.close()
        SEEN["close/idle"] = seen

    def test_abort_idle(self):
        actor, peer = pair()
        abort(actor)
        settle()
        SEEN["abort/idle"] = {"peer.recv": word(lambda: peer.recv(65536))}
        peer.close()

    def test_close_unread_at_actor(self):
        actor, peer = pair()
        peer.sendall(bytes(1024))
        settle()
        actor.close()
        settle()
        SEEN["close/unread-at-actor"] = {"peer.recv": word(lambda: peer.recv(65536))}
        peer.close()

    def test_abort_unread_at_peer(self):
        actor, peer = pair()
        actor.sendall(bytes(1024))
        settle()
        abort(actor)
        settle()
        SEEN["abort/unread-at-peer"] = {"peer.recv": word(lambda: peer.recv(65536)),
                                        "peer.recv#2": word(lambda: peer.recv(65536))}
        peer.close()

    @classmethod
    def tearDownClass(cls):
        print(json.dumps(SEEN, sort_keys=True))


if __name__ == "__main__":
    unittest.main()
