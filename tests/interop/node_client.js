// node_client.js - the Node `ws` client against a wsx echo server
// (examples/echo_server): echo of text, binary, empty and 1 MiB messages,
// ping/pong (RFC 6455 §5.5.2-3), pipelining, fragmented sends (§5.4) and the
// closing handshake with codes 1000 and 4001 (§5.5.1, §7.4).
//
// usage: node node_client.js LABEL PORT [DEFLATE_PORT]
// Prints "OK LABEL-name" or "FAIL LABEL-name: detail" per case. DEFLATE_PORT,
// an echo server offering permessage-deflate (RFC 7692), adds compressed
// cases: large compressible and random messages, fragments, window and
// context-takeover parameters.
'use strict';
const crypto = require('crypto');
const WebSocket = require('ws');

const TIMEOUT = 5000; // ms per step
const MIB = 1 << 20;

function withTimeout(p, what) {
  let t;
  const limit = new Promise((_, reject) => {
    t = setTimeout(() => reject(new Error('timed out waiting for ' + what)), TIMEOUT);
  });
  return Promise.race([p, limit]).finally(() => clearTimeout(t));
}

// A connection whose received messages queue up for next().
// deflate: false, true (compress every message) or ws perMessageDeflate
// options; ws.offered keeps the server's Sec-WebSocket-Extensions.
function connect(port, deflate) {
  const ws = new WebSocket('ws://127.0.0.1:' + port + '/', {
    perMessageDeflate: deflate ? Object.assign({ threshold: 0 }, deflate === true ? {} : deflate) : false,
  });
  ws.once('upgrade', (res) => { ws.agreed = res.headers['sec-websocket-extensions'] || ''; });
  const queue = [];
  const waiters = [];
  let closed = null;
  ws.on('message', (data, isBinary) => {
    const m = isBinary ? data : data.toString('utf8');
    if (waiters.length) waiters.shift().resolve(m); else queue.push(m);
  });
  let lastError = null;
  ws.on('error', (e) => { lastError = e; });
  ws.on('close', (code, reason) => {
    closed = { code, reason: reason.toString() };
    const why = 'closed with ' + code + (lastError ? ' (' + lastError.message + ')' : '');
    for (const w of waiters.splice(0)) w.reject(new Error(why));
  });
  ws.next = () => withTimeout(new Promise((resolve, reject) => {
    if (queue.length) resolve(queue.shift());
    else if (closed) reject(new Error('closed with ' + closed.code));
    else waiters.push({ resolve, reject });
  }), 'a message');
  ws.closed = () => closed;
  return withTimeout(new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('close', () => reject(lastError || new Error('closed before open')));
  }), 'the handshake');
}

function differ(want, got) {
  const kind = (x) => (typeof x === 'string' ? 'text' : 'binary');
  if (kind(want) !== kind(got)) return 'sent ' + kind(want) + ', received ' + kind(got);
  const a = Buffer.from(want);
  const b = Buffer.from(got);
  if (a.equals(b)) return null;
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return 'sent ' + a.length + ' bytes, received ' + b.length + ', first difference at ' + i;
}

function send(ws, data, opts) {
  return withTimeout(new Promise((resolve, reject) => {
    ws.send(data, Object.assign({ binary: typeof data !== 'string' }, opts || {}),
      (err) => (err ? reject(err) : resolve()));
  }), 'send');
}

async function echo(ws, msgs) {
  for (const m of msgs) await send(ws, m);
  for (const [i, m] of msgs.entries()) {
    const err = differ(m, await ws.next());
    if (err) return msgs.length === 1 ? err : 'message ' + i + ': ' + err;
  }
  return null;
}

async function closeAndCheck(ws, code, reason) {
  const t0 = Date.now();
  const done = new Promise((resolve) => ws.once('close', resolve));
  ws.close(code, reason);
  await withTimeout(done, 'the close');
  const c = ws.closed();
  if (c.code !== code) return 'sent close ' + code + ', server answered ' + c.code + ' "' + c.reason + '"';
  // RFC 6455 §7.1.1: the server closes TCP first; ws would otherwise wait
  // for its own 30 s timer before destroying the socket.
  if (Date.now() - t0 > TIMEOUT / 2) return 'closing handshake took ' + (Date.now() - t0) + ' ms';
  return null;
}

async function withConn(port, deflate, body) {
  const ws = await connect(port, deflate);
  try {
    return await body(ws);
  } finally {
    ws.terminate();
  }
}

const caseEcho = (port, msgs, deflate) => withConn(port, deflate, (ws) => echo(ws, msgs));

const casePing = (port, payload) => withConn(port, false, async (ws) => {
  const pong = new Promise((resolve) => ws.once('pong', resolve));
  ws.ping(payload);
  const got = await withTimeout(pong, 'the pong');
  if (!got.equals(payload)) return 'pong payload ' + got.toString('hex') + ' for ping ' + payload.toString('hex');
  return echo(ws, ['after ping']);
});

const caseFragmented = (port, frags, deflate) => withConn(port, deflate, async (ws) => {
  if (deflate && !ws.extensions.includes('permessage-deflate')) return 'permessage-deflate not agreed';
  const binary = typeof frags[0] !== 'string';
  for (let i = 0; i < frags.length; i++) {
    await send(ws, frags[i], { binary, fin: i === frags.length - 1 });
  }
  const whole = binary ? Buffer.concat(frags) : frags.join('');
  return differ(whole, await ws.next());
});

const caseClose = async (port, code, reason) => closeAndCheck(await connect(port, false), code, reason);

// ws does not check the server's answer to server_* parameters; RFC 7692
// §7.1.1.1 and §7.1.2.1: an accepted offer repeats server_no_context_takeover
// and answers server_max_window_bits with a value no larger than offered.
function offerBroken(opts, agreed) {
  if (opts.serverNoContextTakeover && !/server_no_context_takeover/.test(agreed)) {
    return 'server_no_context_takeover missing';
  }
  const bits = /server_max_window_bits=(\d+)/.exec(agreed);
  if (opts.serverMaxWindowBits && !(bits && +bits[1] <= opts.serverMaxWindowBits)) {
    return 'server_max_window_bits not within ' + opts.serverMaxWindowBits;
  }
  return null;
}

const caseDeflate = (port, msgs, opts) => withConn(port, opts || true, async (ws) => {
  if (!ws.extensions.includes('permessage-deflate')) return 'extension not agreed ("' + ws.agreed + '")';
  const broken = opts && offerBroken(opts, ws.agreed);
  if (broken) return broken + ' in "' + ws.agreed + '"';
  return echo(ws, msgs);
});

async function main() {
  const label = process.argv[2];
  const port = +process.argv[3];
  const rnd = crypto.randomBytes(MIB);
  const text = Array.from(rnd, (b) => String.fromCharCode(0x61 + (b % 26))).join('');
  const cases = [
    ['text', () => caseEcho(port, ['hello wsx'])],
    ['utf8', () => caseEcho(port, ['h\u00e9llo \u2713 \u{1F600}'])],
    ['binary', () => caseEcho(port, [Buffer.from(Array.from({ length: 256 }, (_, i) => i))])],
    ['empty-text', () => caseEcho(port, [''])],
    ['empty-binary', () => caseEcho(port, [Buffer.alloc(0)])],
    ['1mib-text', () => caseEcho(port, [text])],
    ['1mib-binary', () => caseEcho(port, [rnd])],
    ['pipelined-100', () => caseEcho(port, Array.from({ length: 100 },
      (_, i) => (i % 2 ? 'msg ' + i : Buffer.from('bin ' + i))))],
    ['ping', () => casePing(port, Buffer.from('ping-42'))],
    ['ping-empty', () => casePing(port, Buffer.alloc(0))],
    ['fragmented-text', () => caseFragmented(port, ['frag', '', 'ment\u00e9', 'ed'])],
    ['fragmented-binary', () => caseFragmented(port,
      [Buffer.from([0, 1]), rnd.subarray(0, 70000), Buffer.from([0xff])])],
    // A server without permessage-deflate declines it (RFC 6455 §9.1).
    ['offer-deflate', () => caseEcho(port, ['offer '.repeat(100)], true)],
    ['close-1000', () => caseClose(port, 1000, 'bye')],
    ['close-4001', () => caseClose(port, 4001, 'custom')],
  ];
  if (process.argv[4]) {
    const dport = +process.argv[4];
    cases.push(
      ['deflate-text', () => caseDeflate(dport, ['hello '.repeat(50)])],
      ['deflate-1mib-compressible', () => caseDeflate(dport, [text.slice(0, 1024).repeat(1024)])],
      ['deflate-1mib-random', () => caseDeflate(dport, [rnd])],
      ['deflate-pipelined-100', () => caseDeflate(dport,
        Array.from({ length: 100 }, (_, i) => ('deflate ' + i + ' ').repeat(i + 1)))],
      // Compressed across frames: RSV1 on the first only (RFC 7692 §6.1).
      ['deflate-fragmented', () => caseFragmented(dport,
        ['frag'.repeat(500), text.slice(0, 70000), 'ment\u00e9'], true)],
      // Both windows 2^10, no context takeover (RFC 7692 §7.1.1-2).
      ['deflate-params', () => caseDeflate(dport,
        [...Array(10).fill(text.slice(0, 5000).repeat(4)), rnd.subarray(0, 20000)], {
          serverNoContextTakeover: true, clientNoContextTakeover: true,
          serverMaxWindowBits: 10, clientMaxWindowBits: 10,
        })],
    );
  }
  for (const [name, run] of cases) {
    let err;
    try {
      err = await run();
    } catch (e) {
      err = e.message || String(e);
    }
    const full = label + '-' + name;
    console.log(err == null ? 'OK ' + full : 'FAIL ' + full + ': ' + err);
  }
}

console.log('ws ' + require('ws/package.json').version);
main().then(() => process.exit(0), (e) => {
  console.log('FAIL ' + process.argv[2] + ': ' + e.stack);
  process.exit(1);
});
