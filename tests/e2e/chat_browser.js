// chat_browser.js CHAT_BINARY - the chat example in headless Chromium: two
// pages load the page the server serves, join one room, and each must see
// the other's message. Chromium is driven over the DevTools protocol with
// node-ws (Debian node-ws). Prints "chat_browser: N passed, M failed".
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const WebSocket = require('/usr/share/nodejs/ws');

const chatBin = process.argv[2];
const chromium = process.env.CHROMIUM || '/usr/bin/chromium';
let passed = 0, failed = 0;
const check = (ok, what) => {
  if (ok) passed++;
  else { failed++; console.log(`FAIL ${what}`); }
};
const sleep = ms => new Promise(r => setTimeout(r, ms));

// Resolve with the first capture of re in a child's output stream.
function waitFor(stream, re, what) {
  return new Promise((resolve, reject) => {
    let buf = '';
    const t = setTimeout(() => reject(new Error(`no ${what}`)), 20000);
    stream.on('data', d => {
      buf += d;
      const m = buf.match(re);
      if (m) { clearTimeout(t); resolve(m[1]); }
    });
  });
}

// A tiny DevTools client: one browser socket, flattened page sessions.
function devtools(url) {
  const ws = new WebSocket(url);
  let id = 0;
  const pending = new Map();
  ws.on('message', d => {
    const m = JSON.parse(d);
    if (m.id && pending.has(m.id)) {
      pending.get(m.id)(m);
      pending.delete(m.id);
    }
  });
  const send = (method, params = {}, sessionId) => new Promise((resolve, reject) => {
    const msg = { id: ++id, method, params };
    if (sessionId) msg.sessionId = sessionId;
    pending.set(msg.id, m => (m.error ? reject(new Error(m.error.message)) : resolve(m.result)));
    ws.send(JSON.stringify(msg));
  });
  return new Promise(resolve => ws.on('open', () => resolve({ send, close: () => ws.close() })));
}

async function page(cdp, url) {
  const { targetId } = await cdp.send('Target.createTarget', { url });
  const { sessionId } = await cdp.send('Target.attachToTarget', { targetId, flatten: true });
  const evaluate = async expr => (await cdp.send('Runtime.evaluate',
    { expression: expr, returnByValue: true }, sessionId)).result.value;
  const log = () => evaluate("document.getElementById('log') ? document.getElementById('log').textContent : ''");
  const until = async (text, ms = 10000) => {
    for (const end = Date.now() + ms; Date.now() < end; await sleep(50))
      if ((await log()).includes(text)) return true;
    return false;
  };
  return { evaluate, log, until, sessionId };
}

const exited = (child, ms) => new Promise(resolve => {
  if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
  const t = setTimeout(() => resolve(null), ms);
  child.on('exit', c => { clearTimeout(t); resolve(c); });
});

// Children die with this script, whatever path it leaves by.
const children = [];
process.on('exit', () => children.forEach(c => c.exitCode === null && c.kill('SIGKILL')));

async function main() {
  const chat = spawn(chatBin, ['--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(chat);
  const site = await waitFor(chat.stdout, /open (http:\/\/\S+)/, 'chat URL');
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'wsx-chromium-'));
  const browser = spawn(chromium, ['--headless', '--no-sandbox', '--disable-gpu',
    '--no-first-run', '--disable-background-networking', `--user-data-dir=${profile}`,
    '--remote-debugging-port=0', 'about:blank'], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(browser);
  try {
    const endpoint = await waitFor(browser.stderr, /DevTools listening on (ws:\S+)/, 'DevTools');
    const cdp = await devtools(endpoint);
    const a = await page(cdp, site), b = await page(cdp, site);
    check(await a.until('connected'), 'page A connects');
    check(await b.until('connected'), 'page B connects');
    check(await a.evaluate('document.title') === 'wsx chat', 'page served at /');
    const join = (p, nick) => p.evaluate(`$('nick').value = '${nick}'; $('room').value = 'r1'; $('join').click(); 1`);
    const say = (p, text) => p.evaluate(`$('text').value = '${text}'; $('send').click(); 1`);
    await join(a, 'alice');
    check(await a.until('* alice joined r1'), 'A joined');
    await join(b, 'bob');
    check(await a.until('* bob joined r1'), 'A sees B join');
    await say(a, 'hello from alice');
    await say(b, 'hello from bob');
    check(await b.until('alice: hello from alice'), "B sees A's message");
    check(await a.until('bob: hello from bob'), "A sees B's message");
    check(await a.until('alice: hello from alice'), 'A sees its own message');
    if (process.env.WSX_CHAT_SHOT) {
      const shot = await cdp.send('Page.captureScreenshot', {}, a.sessionId);
      fs.writeFileSync(process.env.WSX_CHAT_SHOT, Buffer.from(shot.data, 'base64'));
    }
    await cdp.send('Browser.close').catch(() => {});
    cdp.close();
  } finally {
    if (await exited(browser, 5000) === null) {
      browser.kill('SIGKILL');
      await exited(browser, 5000);
    }
    try { fs.rmSync(profile, { recursive: true, force: true, maxRetries: 5 }); } catch (e) { }
  }
  // Ctrl-C: the server closes its peers with 1001 and exits 0.
  chat.kill('SIGINT');
  check(await exited(chat, 5000) === 0, 'chat exits cleanly on SIGINT');
}

const timer = setTimeout(() => { console.log('FAIL timed out'); failed++; finish(); }, 60000);
function finish() {
  console.log(`chat_browser: ${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}
main().catch(e => { console.log(`FAIL ${e.message}`); failed++; })
  .finally(() => { clearTimeout(timer); finish(); });
