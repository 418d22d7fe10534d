/**
 * A bare CONNECT relay: the least any Node relay does for a tunnel, and
 * bench/egress.ts's baseline for cctl's gateway. It answers CONNECT host:port,
 * dials the destination, says "200 Connection Established" and pipes both
 * ways, in one Node process, as the gateway does; it has none of cctl's policy
 * (no allow-list, no address check, no log line, no limits or timeouts). Direct
 * TCP over loopback is no fair baseline for a relay: it moves bytes kernel to
 * kernel, without a process in between, and a loaded machine slows it by a
 * different share (egress's ratios swung from 0.2x to 2.4x against it).
 *
 * Prints {"event":"listening","port":N} on stdout once it listens, like the gateway.
 *
 *   node bench/bare-relay.cjs
 */
'use strict';
const http = require('node:http');
const net = require('node:net');

const server = http.createServer((req, res) => {
  res.writeHead(405);
  res.end();
});
server.on('connect', (req, client, head) => {
  const colon = req.url.lastIndexOf(':');
  const upstream = net.connect({
    host: req.url.slice(0, colon),
    port: Number(req.url.slice(colon + 1)),
    noDelay: true,
    allowHalfOpen: true,
  });
  client.on('error', () => upstream.destroy());
  upstream.on('error', () => client.destroy());
  client.on('close', () => upstream.destroy());
  // After a clean end the pipe has ended the client's side, which still flushes; as the gateway does.
  upstream.on('close', () => {
    if (!client.writableEnded) client.destroy();
  });
  upstream.once('connect', () => {
    client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length) upstream.write(head);
    client.pipe(upstream);
    upstream.pipe(client);
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ event: 'listening', port: server.address().port })}\n`));
process.on('SIGTERM', () => process.exit(0));
