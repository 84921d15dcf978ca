// node_peers.js - Node `ws` peers for the wss:// suite (run-suite.sh).
//   node node_peers.js client URL CAFILE   echo text and binary through a
//                                          wsx wss:// server, then close
//   node node_peers.js server CERT KEY     a wss:// echo server: prints
//                                          "listening PORT", exits at the
//                                          end of its stdin
'use strict';
const fs = require('fs');
const https = require('https');
const WebSocket = require('ws');

const [mode, a, b] = process.argv.slice(2);

function report(name, ok, why) {
  console.log(ok ? `OK ${name}` : `FAIL ${name}: ${why}`);
}

if (mode === 'client') {
  const ws = new WebSocket(a, { ca: fs.readFileSync(b), perMessageDeflate: false });
  const big = Buffer.alloc(300000, 7);
  const want = ['node-text', 'node-binary-300k'];
  ws.on('open', () => {
    ws.send('hello over tls');
    ws.send(big);
  });
  ws.on('message', (data, isBinary) => {
    const name = want.shift();
    report(name, isBinary ? Buffer.compare(data, big) === 0 : data.toString() === 'hello over tls',
      `got ${data.length} bytes`);
    if (!want.length) ws.close(1000);
  });
  ws.on('close', (code) => {
    report('node-close', code === 1000 && !want.length, `code ${code}, missing ${want}`);
    process.exit(0);
  });
  ws.on('error', (e) => {
    report('node-client', false, e.message);
    process.exit(1);
  });
} else {
  const server = https.createServer({ cert: fs.readFileSync(a), key: fs.readFileSync(b) });
  const wss = new WebSocket.WebSocketServer({ server });
  wss.on('connection', (ws) => {
    ws.on('error', () => {});
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
  server.listen(0, '127.0.0.1', () => console.log('listening ' + server.address().port));
  process.stdin.on('end', () => process.exit(0)).resume();
}
