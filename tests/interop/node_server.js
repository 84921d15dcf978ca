// node_server.js - a Node `ws` server for testing the wsx client
// (examples/wsx-cat), with the same paths and stdout lines as py_server.py
// (see there): /echo /record /close/CODE /proto /header /ext /ping. It exits
// at the end of its stdin, so it never outlives its driver.
'use strict';
const crypto = require('crypto');
const WebSocket = require('ws');

const PROTOCOLS = ['wsx.test.v1', 'chat'];

const wss = new WebSocket.WebSocketServer({
  host: '127.0.0.1',
  port: 0,
  maxPayload: 64 << 20,
  perMessageDeflate: { threshold: 0 },
  // The client's first subprotocol that the server knows (RFC 6455 §4.2.2).
  handleProtocols: (offered) => [...offered].find((p) => PROTOCOLS.includes(p)) || false,
});

wss.on('listening', () => console.log('listening ' + wss.address().port));
process.stdin.on('end', () => process.exit(0)).resume();

wss.on('connection', (ws, req) => {
  const route = req.url.split('?')[0];
  let echo = route !== '/record';
  ws.on('error', () => {});
  ws.on('close', (code) => console.log('closed ' + req.url + ' ' + code));
  ws.on('message', (data, isBinary) => {
    if (echo) {
      ws.send(data, { binary: isBinary });
    } else {
      const hash = crypto.createHash('sha256').update(data).digest('hex');
      ws.send((isBinary ? 'binary ' : 'text ') + data.length + ' ' + hash);
    }
  });
  const close = route.match(/^\/close\/(\d+)$/);
  if (close) {
    echo = false;
    ws.send('closing ' + close[1]);
    ws.close(+close[1], 'reason ' + close[1]);
  } else if (route === '/proto') {
    ws.send('protocol=' + ws.protocol);
  } else if (route === '/header') {
    ws.send('x-wsx-test=' + (req.headers['x-wsx-test'] || ''));
  } else if (route === '/ext') {
    ws.send('extensions=' + ws.extensions);
  } else if (route === '/ping') {
    const done = (what) => {
      ws.send(what);
      ws.close(1000, 'done');
    };
    const t = setTimeout(() => done('pong missing'), 5000);
    ws.on('pong', (data) => {
      if (data.toString() === 'wsx-ping') {
        clearTimeout(t);
        done('pong ok');
      }
    });
    ws.ping('wsx-ping');
  }
});
