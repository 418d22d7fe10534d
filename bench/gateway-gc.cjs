/**
 * Preloaded into the gateway by bench/egress.ts (node --expose-gc --require
 * bench/gateway-gc.cjs dist/gateway/main.js); the gateway itself knows nothing
 * of it. On SIGUSR2 it runs a full garbage collection and writes one JSON
 * line to fd 3: the process's RSS, V8's used heap and the memory of objects
 * outside it (Buffers: "external") just after. The bench
 * reads memory there between rounds: the RSS low points between collections
 * follow V8's heap sizing, which keeps growing for 10-15 rounds before it
 * levels off, so they cannot tell a leak from a heap that has not settled.
 */
'use strict';
const { writeSync } = require('node:fs');

// Collected twice, 50 ms apart: the sockets of the round's last tunnels close in callbacks after the first
// collection, and what they held (up to 0.3 MB of a 5.7 MB heap) made the heap's slope over a few rounds jump.
process.on('SIGUSR2', () => {
  globalThis.gc();
  setTimeout(() => {
    globalThis.gc();
    const { rss, heapUsed, external } = process.memoryUsage();
    writeSync(3, `${JSON.stringify({ rss, heapUsed, external })}\n`);
  }, 50);
});
