// pubsub_check.js PUBSUB_BINARY - the pubsub example under a slow
// subscriber: a fast subscriber gets every message in order, a subscriber
// that stops reading is dropped from (--policy drop) or disconnected
// (--policy disconnect), and the server's memory stays bounded.
// Prints "pubsub: N passed, M failed".
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const WebSocket = require('/usr/share/nodejs/ws');

const bin = process.argv[2];
const COUNT = 3000, SIZE = 16 * 1024, LIMIT = 256 * 1024;
let passed = 0, failed = 0;
const check = (ok, what) => { if (ok) passed++; else { failed++; console.log(`FAIL ${what}`); } };
const sleep = ms => new Promise(r => setTimeout(r, ms));
const rssKiB = pid => Number((fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/) || [0, 0])[1]);
const open = url => new Promise((resolve, reject) => {
  const ws = new WebSocket(url);
  ws.on('open', () => resolve(ws));
  ws.on('error', reject);
});

async function run(policy) {
  // Under AddressSanitizer, freed memory sits in a quarantine that would
  // look like growth: keep it small.
  const asan = (process.env.ASAN_OPTIONS ? process.env.ASAN_OPTIONS + ':' : '') + 'quarantine_size_mb=1';
  const srv = spawn(bin, ['--port', '0', '--policy', policy, '--limit', String(LIMIT)],
    { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ASAN_OPTIONS: asan } });
  try {
    const url = await new Promise((resolve, reject) => {
      srv.stdout.on('data', d => { const m = String(d).match(/(ws:\/\/\S+)/); if (m) resolve(m[1]); });
      setTimeout(() => reject(new Error('no URL')), 5000);
    });
    const fast = await open(url), slow = await open(url), pub = await open(url);
    let got = 0, inOrder = true, slowClosed = null;
    fast.on('message', d => { inOrder = inOrder && String(d).startsWith(`news ${got} `); got++; });
    slow.on('close', code => { slowClosed = code; });
    fast.send('sub news');
    slow.send('sub news');
    await sleep(100);
    slow._socket.pause(); // stops reading: its queue hits the limit
    const rss0 = rssKiB(srv.pid);
    const pad = 'x'.repeat(SIZE);
    // In batches well under LIMIT that the fast subscriber confirms, so
    // only the slow one can ever reach the limit.
    const caughtUp = async want => { for (let t = 0; t < 2000 && got < want; t++) await sleep(5); };
    for (let i = 0; i < COUNT; i++) {
      pub.send(`pub news ${i} ${pad}`);
      if (i % 8 === 7) await caughtUp(i + 1);
    }
    await caughtUp(COUNT);
    const rss1 = rssKiB(srv.pid);
    check(got === COUNT && inOrder, `${policy}: fast subscriber got ${got}/${COUNT} in order`);
    // 3000 x 16 KiB = 48 MiB went out; the slow one may hold only LIMIT.
    check(rss1 - rss0 < 8 * 1024, `${policy}: server grew ${rss1 - rss0} KiB`);
    const stats = await new Promise(resolve => {
      pub.on('message', d => resolve(String(d)));
      pub.send('stats');
    });
    const n = k => Number((stats.match(new RegExp(`${k}=(\\d+)`)) || [0, -1])[1]);
    check(n('published') === COUNT, `${policy}: ${stats}`);
    if (policy === 'drop') {
      check(n('dropped') > 0 && n('cut_off') === 0, `${policy}: slow subscriber skipped: ${stats}`);
    } else {
      check(n('cut_off') === 1, `${policy}: slow subscriber cut off: ${stats}`);
      slow._socket.resume();
      for (let t = 0; t < 100 && slowClosed === null; t++) await sleep(50);
      check(slowClosed === 1008, `${policy}: slow subscriber closed with ${slowClosed}`);
    }
    fast.close(); slow.terminate(); pub.close();
  } finally {
    srv.kill('SIGINT');
  }
}

(async () => {
  const timer = setTimeout(() => { console.log('FAIL timed out'); process.exit(1); }, 60000);
  try { await run('drop'); await run('disconnect'); } catch (e) { failed++; console.log(`FAIL ${e.message}`); }
  clearTimeout(timer);
  console.log(`pubsub: ${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
})();
