#!/usr/bin/env node
// closematrix agent, protocol 1 (docs/agent-protocol.md): Node's net.Socket
// and its events. Standard library only.
//
// Sockets are made paused (net.createServer's pauseOnConnect; a client
// socket paused before its connect completes, so net.js's afterConnect
// starts no read), so that data the program has not asked for stays in the
// kernel. recv takes a chunk from the stream (socket.read()), waiting for
// 'readable', 'end', 'error' or 'close' when there is none: from its first
// recv on, Node reads ahead into the stream's buffer, as it does for any
// program. send is socket.write() answered when its callback runs (the data
// was handed to the kernel) or an error came. close is socket.destroy(),
// answered at 'close'; shutdown wr is socket.end(), answered at 'finish';
// abort is socket.resetAndDestroy() (SO_LINGER 0 inside libuv,
// uv_tcp_close_reset). Sockets keep Node's defaults (allowHalfOpen false:
// Node ends its own side when it reads the peer's end). Answers carry every
// event since the last answer about the connection.
'use strict';

const net = require('net');
const readline = require('readline');

const PROTOCOL = 1;
const OPS = ['listen', 'close-listener', 'accept', 'dial', 'send', 'recv', 'shutdown',
  'close', 'abort', 'pause-reading'];
const NOT_HERE = {
  'set-linger': 'net.Socket has no SO_LINGER (resetAndDestroy is its only linger-0 close)',
  'fill': 'socket.write() never blocks: it buffers in the stream, so the kernel send buffer is not what fills',
};

let next = 1;
// One zero buffer per size, reused: Buffer.alloc of the blocked send's
// 64 MiB takes the event loop for tens of milliseconds, which every other
// scenario sharing this agent would wait out.
const zeros = new Map();
function zerosOf(n) {
  if (!zeros.has(n)) zeros.set(n, Buffer.alloc(n));
  return zeros.get(n);
}
const objs = new Map();

function emit(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

function family(f) {
  if (f === 'v4') return '127.0.0.1';
  if (f === 'v6') return '::1';
  throw new TypeError(`family ${f}: want v4 or v6`);
}

function addr(host, port) {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

// OS error numbers: libuv's err.errno is the negated errno on Unix
// (include/uv/errno.h, UV__ERR(x) = -(x)); on Windows it is libuv's own
// numbering, not the OS's, so only the code (the POSIX name) is reported.
function errorOf(err) {
  const d = { type: err.constructor && err.constructor.name || 'Error', message: String(err.message) };
  if (typeof err.code === 'string') d.code = err.code;
  if (typeof err.errno === 'number' && process.platform !== 'win32' && err.errno < 0) {
    d.errno = -err.errno;
    d.name = err.code;
  }
  return d;
}

function eventWords(name, arg) {
  if (name === 'error') return `'error' ${arg && arg.code || arg && arg.constructor && arg.constructor.name || ''}`.trim();
  if (name === 'close') return arg ? "'close' hadError" : "'close'";
  return `'${name}'`;
}

class Conn {
  constructor(sock) {
    this.sock = sock;
    this.events = [];
    this.err = null;
    this.ended = false;
    this.closed = false;
    this.waiters = [];
    sock.on('end', () => { this.ended = true; this.note('end'); });
    sock.on('error', (e) => { this.err = e; this.note('error', e); });
    sock.on('close', (hadError) => { this.closed = true; this.note('close', hadError); });
    sock.on('finish', () => this.note('finish'));
    // No 'readable' listener here: attaching one starts reading (recv
    // attaches it while it waits).
  }
  note(name, arg) {
    this.events.push(eventWords(name, arg));
    this.wake();
  }
  wake() {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
  changed() {
    return new Promise((resolve) => this.waiters.push(resolve));
  }
  take(ans) {
    if (this.events.length) ans.events = this.events;
    this.events = [];
    return ans;
  }
  answer() {
    const s = this.sock;
    const name = `c${next++}`;
    objs.set(name, this);
    return { status: 'ok', conn: name, local: addr(s.localAddress, s.localPort), remote: addr(s.remoteAddress, s.remotePort) };
  }
}

const handlers = {
  async listen(cmd) {
    const host = family(cmd.family);
    const ln = { queue: [], waiters: [] };
    ln.server = net.createServer({ pauseOnConnect: true }, (sock) => {
      ln.queue.push(new Conn(sock));
      const w = ln.waiters.shift();
      if (w) w();
    });
    await new Promise((resolve, reject) => {
      ln.server.once('error', reject);
      ln.server.listen({ host, port: 0, backlog: 16 }, resolve);
    });
    const name = `l${next++}`;
    objs.set(name, ln);
    return { status: 'ok', listener: name, port: ln.server.address().port };
  },
  async 'close-listener'(cmd) {
    objs.get(cmd.listener).server.close();
    return { status: 'ok' };
  },
  async accept(cmd) {
    const ln = objs.get(cmd.listener);
    if (!ln) throw new TypeError(`no listener ${cmd.listener}`);
    emit({ id: cmd.id, started: true });
    while (ln.queue.length === 0) await new Promise((resolve) => ln.waiters.push(resolve));
    return ln.queue.shift().answer();
  },
  async dial(cmd) {
    const host = family(cmd.family);
    const sock = new net.Socket();
    sock.pause(); // before connect: afterConnect then starts no read
    const c = new Conn(sock);
    await new Promise((resolve, reject) => {
      sock.once('error', reject);
      sock.connect({ host, port: cmd.port }, () => { sock.removeListener('error', reject); resolve(); });
    });
    c.events = []; // the connect itself is not an event of the scenario
    return c.answer();
  },
  async send(cmd) {
    const c = conn(cmd);
    emit({ id: cmd.id, started: true });
    const res = await new Promise((resolve) => {
      let done = false;
      const finish = (r) => { if (!done) { done = true; c.sock.removeListener('close', onclose); resolve(r); } };
      // A socket destroyed with this write pending calls its callback with
      // the error (lib/internal/streams/writable.js); should 'close' come
      // first and the callback never, that is said as it is.
      const onclose = () => setImmediate(() => finish({ lost: true }));
      c.sock.once('close', onclose);
      try {
        c.sock.write(zerosOf(cmd.n), (e) => finish({ err: e || null }));
      } catch (e) {
        finish({ err: e });
      }
    });
    if (res.lost) {
      return c.take({ status: 'error', error: { type: 'none', message: "'close' came and the write's callback had not run" } });
    }
    if (res.err) return c.take({ status: 'error', error: errorOf(res.err) });
    return c.take({ status: 'ok', n: cmd.n });
  },
  async recv(cmd) {
    const c = conn(cmd);
    emit({ id: cmd.id, started: true });
    for (;;) {
      const avail = c.sock.readableLength;
      if (avail > 0) {
        const chunk = c.sock.read(Math.min(cmd.max, avail));
        if (chunk) return c.take({ status: 'ok', n: chunk.length });
      }
      if (c.err) return c.take({ status: 'error', error: errorOf(c.err) });
      if (c.ended || c.closed || c.sock.destroyed) return c.take({ status: 'ok', n: 0 });
      const onreadable = () => c.wake();
      c.sock.once('readable', onreadable); // starts the read when none runs
      const changed = c.changed();
      c.sock.read(0); // at the end of the stream, this is what emits 'end'
      await changed;
      c.sock.removeListener('readable', onreadable);
    }
  },
  async shutdown(cmd) {
    const c = conn(cmd);
    if (cmd.how !== 'wr') {
      return { status: 'unsupported', reason: 'net.Socket shuts down only its sending side (end())' };
    }
    await new Promise((resolve) => {
      const done = () => { c.sock.removeListener('close', done); c.sock.removeListener('error', done); resolve(); };
      c.sock.once('close', done);
      c.sock.once('error', done);
      c.sock.end(done);
    });
    if (c.err) return c.take({ status: 'error', error: errorOf(c.err) });
    return c.take({ status: 'ok' });
  },
  async close(cmd) {
    const c = conn(cmd);
    if (!c.closed) {
      const closed = new Promise((resolve) => c.sock.once('close', resolve));
      c.sock.destroy();
      await closed;
    }
    return c.take({ status: 'ok' });
  },
  async abort(cmd) {
    const c = conn(cmd);
    if (!c.closed) {
      const closed = new Promise((resolve) => c.sock.once('close', resolve));
      try {
        c.sock.resetAndDestroy();
      } catch (e) {
        return c.take({ status: 'error', error: errorOf(e) });
      }
      await closed;
    }
    return c.take({ status: 'ok' });
  },
  async 'pause-reading'(cmd) {
    conn(cmd).sock.pause();
    return { status: 'ok' };
  },
};

function conn(cmd) {
  const c = objs.get(cmd.conn);
  if (!(c instanceof Conn)) throw new TypeError(`no connection ${cmd.conn}`);
  return c;
}

async function serve(cmd) {
  let ans;
  try {
    ans = await handlers[cmd.op](cmd);
  } catch (e) {
    ans = e instanceof TypeError && !e.code
      ? { status: 'bad-request', reason: String(e.message) }
      : { status: 'error', error: errorOf(e) };
  }
  ans.id = cmd.id;
  emit(ans);
}

emit({
  protocol: PROTOCOL, runtime: 'Node.js', version: process.version, api: 'net', ops: OPS,
  thread_ids: false, abort: 'socket.resetAndDestroy()',
  options: { allowHalfOpen: false, libuv: process.versions.uv },
  pid: process.pid,
});

const rl = readline.createInterface({ input: process.stdin });
rl.on('line', (line) => {
  line = line.trim();
  if (!line) return;
  let cmd;
  try {
    cmd = JSON.parse(line);
  } catch (e) {
    emit({ id: 0, status: 'bad-request', reason: `unreadable command: ${e.message}` });
    return;
  }
  if (!Object.prototype.hasOwnProperty.call(handlers, cmd.op)) {
    if (NOT_HERE[cmd.op]) emit({ id: cmd.id, status: 'unsupported', reason: NOT_HERE[cmd.op] });
    else emit({ id: cmd.id, status: 'bad-request', reason: `unknown op ${JSON.stringify(cmd.op)}` });
    return;
  }
  serve(cmd);
});
rl.on('close', () => process.exit(0));
