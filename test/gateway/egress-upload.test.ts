/**
 * Uploads through a tunnel, in a gateway process started as the proxy image
 * starts it (its malloc variables from docker/proxy.Dockerfile). A tunnel's
 * client side is the HTTP server's socket, which Node reads into a fresh
 * 64 KiB block each time; with glibc's default trim threshold the freed
 * blocks went back to the kernel after every scavenge and the next reads
 * faulted them in again: 80-260 minor page faults per MB uploaded, and
 * upload cost the gateway 2-4x the CPU of download (bench/egress.ts). Linux
 * only: the faults are read from /proc/<pid>/stat.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { imageMallocEnv } from './egress-fixtures.js';
import { deadline } from './fixtures.js';

// The compiled gateway on plain node, as in the image (npm run build makes it): under tsx, the loader's
// own large allocations raise glibc's dynamic trim threshold and hide the faults.
const MAIN = fileURLToPath(new URL('../../dist/gateway/main.js', import.meta.url));
const MB = 1024 * 1024;
const minorFaults = (pid: number) =>
  Number(
    readFileSync(`/proc/${pid}/stat`, 'utf8')
      .replace(/^.*\) /, '')
      .split(' ')[7],
  );

/** Reads everything; when the client has finished sending, answers "ok" and closes. */
async function startSink(): Promise<{ port: number; close(): void }> {
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    socket.on('error', () => {});
    socket.resume();
    socket.on('end', () => socket.end('ok'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, close: () => server.close() };
}

/** Opens a tunnel, sends SIZE bytes in 1 MB writes, and waits for the destination's "ok". */
function upload(gatewayPort: number, target: string, size: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port: gatewayPort });
    socket.once('error', reject);
    socket.once('connect', () => socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`));
    let answer = '';
    const onData = (chunk: Buffer) => {
      answer += chunk.toString('latin1');
      if (!answer.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      if (!answer.startsWith('HTTP/1.1 200')) return reject(new Error(`CONNECT answered: ${answer.split('\r\n')[0]}`));
      let reply = '';
      socket.on('data', (c: Buffer) => (reply += c.toString()));
      socket.once('end', () => (reply === 'ok' ? resolve() : reject(new Error(`the destination answered "${reply}"`))));
      const block = Buffer.alloc(MB, 121);
      let left = size;
      const pump = () => {
        while (left > 0) {
          left -= block.length;
          if (!socket.write(block)) return void socket.once('drain', pump);
        }
        socket.end();
      };
      pump();
    };
    socket.on('data', onData);
  });
}

test('an upload through a tunnel does not fault its read buffers in again: under 20 page faults per MB, as the image runs it', async (t) => {
  t.true(existsSync(MAIN), `${MAIN} is missing: run "npm run build" first`);
  const sink = await startSink();
  const target = `127.0.0.1:${sink.port}`;
  const gateway = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH, ...imageMallocEnv(), PORT: '0', CCTL_EGRESS_ALLOW: target },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.teardown(() => {
    gateway.kill('SIGTERM');
    sink.close();
  });
  const port = await deadline(
    new Promise<number>((resolve) => {
      createInterface({ input: gateway.stdout! }).on('line', (line) => {
        if (line.includes('"event":"listening"')) resolve((JSON.parse(line) as { port: number }).port);
      });
    }),
    30_000,
    'the gateway to listen',
  );
  // The first transfers grow the heaps to their working size; those faults are not per-read ones.
  for (let i = 0; i < 2; i++) await deadline(upload(port, target, 32 * MB), 60_000, `warm-up upload ${i + 1}`);
  const perMb: number[] = [];
  for (let i = 0; i < 5; i++) {
    const before = minorFaults(gateway.pid!);
    await deadline(upload(port, target, 32 * MB), 60_000, `upload ${i + 1}`);
    perMb.push((minorFaults(gateway.pid!) - before) / 32);
  }
  const median = perMb.sort((a, b) => a - b)[2]!;
  t.log(
    `gateway page faults per MB uploaded: ${perMb.map((x) => x.toFixed(1)).join(', ')}; the image's malloc settings: ${JSON.stringify(imageMallocEnv())}`,
  );
  t.true(median < 20, `median ${median.toFixed(1)} page faults per MB uploaded`);
});
