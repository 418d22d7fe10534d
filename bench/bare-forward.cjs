/**
 * A bare HTTP forwarder: the least any Node proxy in front of an API does, and
 * bench/proxy.ts's latency baseline for cctl's gateway. Each request goes to
 * the upstream on a kept-alive connection and the answer is piped back, in one
 * Node process, as the gateway does; it has none of cctl's work on top (no
 * client token check, no key swap, no usage read from the answer, no log line).
 * A request straight to the upstream is no fair baseline for a proxy: it skips
 * a process hop, whose cost a loaded machine multiplies (the gateway's p50 was
 * 4.3x direct at load 8 and 9x under two busy loops).
 *
 * Prints {"event":"listening","port":N} on stdout once it listens, like the gateway.
 *
 *   node bench/bare-forward.cjs UPSTREAM_PORT
 */
'use strict';
const http = require('node:http');

const upstreamPort = Number(process.argv[2]);
const agent = new http.Agent({ keepAlive: true });
const server = http.createServer((req, res) => {
  const upstream = http.request(
    { host: '127.0.0.1', port: upstreamPort, method: req.method, path: req.url, headers: req.headers, agent },
    (answer) => {
      res.writeHead(answer.statusCode, answer.headers);
      answer.pipe(res);
    },
  );
  upstream.on('error', () => {
    res.writeHead(502);
    res.end();
  });
  req.pipe(upstream);
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ event: 'listening', port: server.address().port })}\n`));
process.on('SIGTERM', () => process.exit(0));
