// Independent check of the node view (closematrix issue 18, point 6): the
// same four scenarios played on net.Socket directly, not through the agent,
// printing what each step saw as one JSON object on the last line of stdout.
// agents/check_test.go runs it and compares with the agent's cells.
//
// Run: node --test agents/node/check.test.js
'use strict';
const test = require('node:test');
const net = require('net');

const seen = {};

// pair connects a client to a paused server socket (pauseOnConnect), so
// that nothing is read before a step reads.
function pair() {
  return new Promise((resolve) => {
    const server = net.createServer({ pauseOnConnect: true }, (peer) => {
      server.close();
      resolve({ actor, peer });
    });
    let actor;
    server.listen(0, '127.0.0.1', () => {
      actor = net.connect(server.address().port, '127.0.0.1');
      actor.pause();
    });
  });
}

// settle pauses for a FIN or RST to cross loopback.
const settle = () => new Promise((r) => setTimeout(r, 50));

// recv reads like a program that resumed the stream: the first of data,
// 'end' or 'error', as a class word.
function recv(s) {
  return new Promise((resolve) => {
    const done = (w) => { s.removeAllListeners('data'); s.pause(); resolve(w); };
    s.once('data', (d) => done(`data ${d.length}`));
    s.once('end', () => done('eof'));
    s.once('error', (e) => done(e.code === 'ECONNRESET' ? 'reset' : e.code));
    s.resume();
  });
}

function send(s) {
  return new Promise((resolve) => {
    s.write(Buffer.alloc(32), (e) => resolve(e ? (e.code === 'EPIPE' ? 'broken-pipe' : e.code === 'ECONNRESET' ? 'reset' : e.code) : 'ok'));
  });
}

test('close/idle', async () => {
  const { actor, peer } = await pair();
  peer.on('error', () => {});
  actor.destroy();
  await settle();
  seen['close/idle'] = { 'peer.recv': await recv(peer) };
  peer.destroy();
});

test('abort/idle', async () => {
  const { actor, peer } = await pair();
  actor.resetAndDestroy();
  await settle();
  seen['abort/idle'] = { 'peer.recv': await recv(peer) };
  peer.destroy();
});

test('close/unread-at-actor', async () => {
  const { actor, peer } = await pair();
  peer.on('error', () => {});
  await send(peer);
  await settle();
  actor.destroy();
  await settle();
  seen['close/unread-at-actor'] = { 'peer.recv': await recv(peer) };
  peer.destroy();
});

test('abort/unread-at-peer', async () => {
  const { actor, peer } = await pair();
  peer.on('error', () => {});
  await new Promise((r) => actor.write(Buffer.alloc(1024), r));
  await settle();
  actor.resetAndDestroy();
  await settle();
  const first = await recv(peer);
  seen['abort/unread-at-peer'] = { 'peer.recv': first, 'peer.recv#2': await recv(peer) };
  peer.destroy();
});

test.after(() => { console.log(JSON.stringify(seen)); });
