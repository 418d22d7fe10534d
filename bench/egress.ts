/**
 * Egress benchmark: a CONNECT tunnel through the gateway against a direct
 * TCP connection to the same destination, in one run. Prints:
 *   - connect latency p50/p99, direct vs tunnel (TCP to the gateway, CONNECT,
 *     the address check, the gateway's own connect, "200 Connection
 *     Established"), and the added latency (goal: p50 under 1 ms), for a
 *     literal address and for a name (`localhost`: its addresses, then the
 *     address check against the list's literal entry). By name twice: as
 *     the gateway runs, where repeated tunnels to a name reuse its lookup
 *     for CCTL_EGRESS_DNS_CACHE_SECONDS (10 s), and through a second gateway
 *     with that cache off, where every tunnel waits for a lookup (what the
 *     first tunnel to a name costs; in a container the lookup also goes to
 *     Docker's DNS server, which this bench on loopback does not include);
 *   - throughput of a 100 MB download and a 100 MB upload, direct vs tunnel,
 *     and their ratio (goal: at least 0.8x direct), with the gateway's CPU
 *     time per 100 MB (steadier than wall-clock rates on a shared machine);
 *   - rounds of 200 concurrent tunnels moving 1 MB each, with the gateway's
 *     lowest RSS in each round (it should level off).
 *
 * Goals (bench/goals.ts; --check exits 1 on a miss, --goal ID=LIMIT changes one):
 *   added-p50-ms        tunnel p50 minus direct p50 <= 1 ms (absolute)
 *   added-by-name-p50-ms  the same through a name (answer reused + address check) (absolute)
 *   connect-ratio-p50   tunnel p50 / direct p50 <= 8 (relative: a tunnel is two
 *                       connects and a CONNECT exchange against one connect)
 *   by-name-ratio-p50   the same through a name <= 8 (relative)
 *   by-name-over-literal-p50  tunnel by name p50 / tunnel to the literal p50 <= 1.15
 *                       (relative: what the name costs on top, the address check
 *                       and the reused answer; a lookup per tunnel makes it 1.4-1.8)
 *   (printed, no goal: the added p50 with a lookup for every tunnel)
 *   down-ratio, up-ratio  tunnel MB/s / direct MB/s >= 0.8 (relative)
 *   rss-slope           slope of the lowest RSS per round, rounds after warm-up,
 *                       <= 5 % of the level per round (relative)
 *
 * The gateway runs as a child process from the compiled dist/gateway/main.js
 * (as in the image, logging every tunnel), and the destination in another,
 * so this process is only the client.
 *
 *   npx tsc -p lib/gateway/tsconfig.json && node --import tsx bench/egress.ts [--quick] [--check] [--relative-only] [--tolerance F] [--goal ID=LIMIT]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { benchArgs, Goals, relativeSlopePercent } from './goals.js';

const args = benchArgs({ quick: { type: 'boolean', default: false } });
const goals = new Goals('bench/egress.ts', args);
const quick = args.quick;
const SAMPLES = quick ? 300 : 2000;
const WARMUP = quick ? 50 : 200;
const TRANSFER = 100 * 1024 * 1024;
const TRANSFER_ROUNDS = quick ? 1 : 3;

const gatewayJs = fileURLToPath(new URL('../dist/gateway/main.js', import.meta.url));
if (!existsSync(gatewayJs)) {
  console.error(`${gatewayJs} is missing: run "npx tsc -p lib/gateway/tsconfig.json" first.`);
  process.exit(1);
}

// The destination: "S <n>\n" sends n bytes and closes; "R <n>\n" reads n bytes, answers "ok" and closes.
const DESTINATION = `
const net = require('net');
const block = Buffer.alloc(1024 * 1024, 120);
const server = net.createServer({ noDelay: true }, (socket) => {
  socket.on('error', () => {});
  let head = '';
  const onData = (chunk) => {
    head += chunk.toString('latin1');
    const nl = head.indexOf('\\n');
    if (nl < 0) return;
    socket.off('data', onData);
    const [op, size] = head.slice(0, nl).split(' ');
    let left = Number(size);
    if (op === 'S') {
      const pump = () => {
        while (left > 0) {
          const piece = left >= block.length ? block : block.subarray(0, left);
          left -= piece.length;
          if (!socket.write(piece)) return socket.once('drain', pump);
        }
        socket.end();
      };
      pump();
    } else {
      left -= head.length - nl - 1;
      const done = () => socket.end('ok');
      if (left <= 0) return done();
      socket.on('data', (c) => { left -= c.length; if (left <= 0) done(); });
    }
  };
  socket.on('data', onData);
});
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
`;

function firstLine(child: ChildProcess, what: string, match: (line: string) => string | undefined): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not start within 10 s`)), 10_000);
    child.once('exit', (code) => reject(new Error(`${what} exited with ${code}`)));
    let found = false;
    // Every line is read, which keeps the pipe drained as a container runtime would.
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const value = found ? undefined : match(line);
      if (value === undefined) return;
      found = true;
      clearTimeout(timer);
      resolve(value);
    });
  });
}

const destination = spawn(process.execPath, ['-e', DESTINATION], { stdio: ['ignore', 'pipe', 'inherit'] });
const destinationPort = Number(await firstLine(destination, 'the destination', (line) => line.trim()));
function startGateway(env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, [gatewayJs], {
    // The name resolves to loopback, which only the literal entry beside it lets through.
    env: { PATH: process.env.PATH, PORT: '0', CCTL_EGRESS_ALLOW: `127.0.0.1:${destinationPort},localhost:${destinationPort}`, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}
const portOf = async (child: ChildProcess, what: string) =>
  Number(await firstLine(child, what, (line) => (line.includes('"event":"listening"') ? String((JSON.parse(line) as { port: number }).port) : undefined)));
const gateway = startGateway();
const gatewayPort = await portOf(gateway, 'the gateway');
// The same gateway with the DNS cache off: every tunnel to a name waits for its lookup.
const uncachedGateway = startGateway({ CCTL_EGRESS_DNS_CACHE_SECONDS: '0' });
const uncachedPort = await portOf(uncachedGateway, 'the gateway without a DNS cache');

/** user + system CPU seconds of a process (fields 14 and 15 of /proc/<pid>/stat, in ticks of 1/100 s). */
const cpuSeconds = (pid: number) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
};

/** Resolves with a socket ready to carry the client's bytes to the destination. */
function open(viaTunnel: boolean, target = `127.0.0.1:${destinationPort}`, proxyPort = gatewayPort): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port: viaTunnel ? proxyPort : destinationPort, noDelay: true });
    socket.once('error', reject);
    if (!viaTunnel) {
      socket.once('connect', () => resolve(socket));
      return;
    }
    socket.once('connect', () => socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`));
    let answer = '';
    const onData = (chunk: Buffer) => {
      answer += chunk.toString('latin1');
      const end = answer.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      if (!answer.startsWith('HTTP/1.1 200')) return reject(new Error(`CONNECT answered: ${answer.split('\r\n')[0]}`));
      if (end + 4 < answer.length) socket.unshift(Buffer.from(answer.slice(end + 4), 'latin1'));
      resolve(socket);
    };
    socket.on('data', onData);
  });
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

async function connectLatency(): Promise<void> {
  const sample = async (viaTunnel: boolean, target?: string, proxyPort?: number) => {
    const t0 = process.hrtime.bigint();
    const socket = await open(viaTunnel, target, proxyPort);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    socket.destroy();
    return ms;
  };
  const byName = `localhost:${destinationPort}`;
  const series = [
    { ms: [] as number[], take: () => sample(false) },
    { ms: [] as number[], take: () => sample(true) },
    { ms: [] as number[], take: () => sample(true, byName) },
    { ms: [] as number[], take: () => sample(true, byName, uncachedPort) },
  ];
  for (let i = 0; i < WARMUP; i++) for (const s of series) await s.take();
  // Interleaved, and rotating which goes first, so drift on the machine affects every series alike.
  for (let i = 0; i < SAMPLES; i++) {
    for (let j = 0; j < series.length; j++) {
      const s = series[(i + j) % series.length]!;
      s.ms.push(await s.take());
    }
  }
  const [direct, tunnel, named, uncached] = series.map((s) => s.ms.sort((a, b) => a - b)) as [number[], number[], number[], number[]];
  const f = (ms: number) => `${ms.toFixed(3)} ms`;
  const line = (what: string, xs: number[]) =>
    console.log(`  ${what.padEnd(18)} p50 ${f(percentile(xs, 50))}  p99 ${f(percentile(xs, 99))}` +
      (xs === direct ? '' : `  added p50 ${f(percentile(xs, 50) - percentile(direct, 50))}  p99 ${f(percentile(xs, 99) - percentile(direct, 99))}`));
  console.log(`\nConnect latency, ${SAMPLES} sequential connections each (interleaved)`);
  line('direct', direct);
  line('tunnel, literal', tunnel);
  line('tunnel, by name', named);
  line('  lookup each time', uncached);
  console.log('  (by name: localhost, its addresses checked; reused for 10 s as the gateway runs, or looked up for every tunnel with CCTL_EGRESS_DNS_CACHE_SECONDS=0)');
  const p50 = (xs: number[]) => percentile(xs, 50);
  goals.check('added-p50-ms', 'connect latency a tunnel adds, p50', p50(tunnel) - p50(direct), '<=', 1, 'ms', 'absolute');
  goals.check('added-by-name-p50-ms', 'connect latency a tunnel to a name adds, p50', p50(named) - p50(direct), '<=', 1, 'ms', 'absolute');
  goals.check('connect-ratio-p50', 'tunnel p50 / direct p50', p50(tunnel) / p50(direct), '<=', 8, 'x', 'relative');
  goals.check('by-name-ratio-p50', 'tunnel to a name p50 / direct p50', p50(named) / p50(direct), '<=', 8, 'x', 'relative');
  goals.check('by-name-over-literal-p50', 'tunnel to a name p50 / tunnel to the literal p50', p50(named) / p50(tunnel), '<=', 1.15, 'x', 'relative');
}

/** Seconds to move TRANSFER bytes: down (destination to client) or up. */
async function transfer(viaTunnel: boolean, direction: 'down' | 'up'): Promise<number> {
  const socket = await open(viaTunnel);
  const t0 = process.hrtime.bigint();
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    if (direction === 'down') {
      let got = 0;
      socket.on('data', (chunk: Buffer) => (got += chunk.length));
      socket.once('end', () => (got === TRANSFER ? resolve() : reject(new Error(`got ${got} of ${TRANSFER} bytes`))));
      socket.write(`S ${TRANSFER}\n`);
      return;
    }
    let reply = '';
    socket.on('data', (chunk: Buffer) => (reply += chunk.toString()));
    socket.once('end', () => (reply === 'ok' ? resolve() : reject(new Error(`upload answered "${reply}"`))));
    socket.write(`R ${TRANSFER}\n`);
    const block = Buffer.alloc(1024 * 1024, 121);
    let left = TRANSFER;
    const pump = () => {
      while (left > 0) {
        left -= block.length;
        if (!socket.write(block)) return void socket.once('drain', pump);
      }
    };
    pump();
  });
  socket.destroy();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

async function throughput(direction: 'down' | 'up'): Promise<void> {
  const best = { direct: Infinity, tunnel: Infinity };
  let gatewayCpu = 0;
  for (let round = 0; round < TRANSFER_ROUNDS; round++) {
    best.direct = Math.min(best.direct, await transfer(false, direction));
    const cpuBefore = cpuSeconds(gateway.pid!);
    best.tunnel = Math.min(best.tunnel, await transfer(true, direction));
    gatewayCpu += cpuSeconds(gateway.pid!) - cpuBefore;
  }
  const mbps = (s: number) => TRANSFER / s / 1e6;
  const ratio = mbps(best.tunnel) / mbps(best.direct);
  // CPU time does not depend on what else the machine runs, unlike the wall-clock rates.
  const cpuPerTransfer = gatewayCpu / TRANSFER_ROUNDS;
  console.log(
    `  ${direction.padEnd(4)}  direct ${mbps(best.direct).toFixed(0).padStart(5)} MB/s  tunnel ${mbps(best.tunnel).toFixed(0).padStart(5)} MB/s  ratio ${ratio.toFixed(2)}x` +
      `\n        gateway CPU ${(cpuPerTransfer * 1000).toFixed(0)} ms per ${TRANSFER / 1048576} MB, so one core relays about ${(TRANSFER / 1e6 / cpuPerTransfer).toFixed(0)} MB/s`,
  );
  goals.check(`${direction}-ratio`, `tunnel / direct MB/s, ${direction}load, best of ${TRANSFER_ROUNDS}`, ratio, '>=', 0.8, 'x', 'relative');
}

const rssMiB = (pid: number) => Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;

async function concurrentRounds(): Promise<void> {
  // The first rounds warm up: V8 grows its heap in steps to fit the load, then the low point stays put.
  const rounds = quick ? 6 : 8;
  const warmup = 3;
  const size = 1024 * 1024;
  const lows: number[] = [];
  const started = process.hrtime.bigint();
  for (let round = 0; round < rounds; round++) {
    const samples: number[] = [];
    const sampler = setInterval(() => samples.push(rssMiB(gateway.pid!)), 50);
    await Promise.all(
      Array.from({ length: 200 }, async () => {
        const socket = await open(true);
        await new Promise<void>((resolve, reject) => {
          let got = 0;
          socket.on('data', (chunk: Buffer) => (got += chunk.length));
          socket.once('end', () => (got === size ? resolve() : reject(new Error(`got ${got} of ${size} bytes`))));
          socket.once('error', reject);
          socket.write(`S ${size}\n`);
        });
        socket.destroy();
      }),
    );
    clearInterval(sampler);
    samples.push(rssMiB(gateway.pid!));
    lows.push(Math.min(...samples));
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  console.log(`\n${rounds} rounds of 200 concurrent tunnels x 1 MB down: ${((rounds * 200) / seconds).toFixed(0)} tunnels/s; gateway's lowest RSS in each round ${lows.map((x) => x.toFixed(1)).join(', ')} MiB`);
  goals.check('rss-slope', `slope of the lowest RSS per round, rounds ${warmup + 1}-${rounds}`, relativeSlopePercent(lows.slice(warmup)), '<=', 5, '%/round', 'relative');
}

try {
  console.log(`Gateway ${gatewayJs} (node ${process.version}), destination on 127.0.0.1:${destinationPort}${quick ? ', --quick' : ''}`);
  console.log(`Gateway RSS idle: ${rssMiB(gateway.pid!).toFixed(1)} MiB`);
  await connectLatency();
  console.log(`\nThroughput of ${TRANSFER / 1048576} MB, best of ${TRANSFER_ROUNDS} (interleaved)`);
  await throughput('down');
  await throughput('up');
  await concurrentRounds();
  goals.finish();
} finally {
  gateway.kill('SIGTERM');
  uncachedGateway.kill('SIGTERM');
  destination.kill('SIGTERM');
}
