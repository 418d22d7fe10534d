/**
 * Gateway benchmark against a fake upstream on loopback. Prints, in one run:
 *   - added latency p50/p99: the same small request direct vs through the gateway;
 *   - throughput at 50 concurrent streaming (SSE) requests, direct and through;
 *   - the gateway's resident memory: idle, the low point of each load round, and the peak.
 *
 * Goals (bench/goals.ts; --check exits 1 on a miss, --goal ID=LIMIT changes one):
 *   added-p50-ms         gateway p50 minus direct p50 <= 1 ms (absolute)
 *   latency-ratio-p50    gateway p50 / direct p50 <= 6 (relative: two hops and a
 *                        parse against one hop; load on the machine moves both)
 *   throughput-ratio     gateway streams/s / direct streams/s >= 0.5, medians of
 *                        interleaved rounds after warm-up (relative)
 *   rss-slope            the gateway's RSS levels off: least-squares slope of each
 *                        round's lowest RSS (after GC), rounds after warm-up,
 *                        <= 5 % of the level per round (relative)
 *
 * The gateway runs as a child process from the compiled dist/gateway/main.js,
 * exactly as in the image, so its RSS and CPU are its own and include its
 * logging. The client and the fake upstream share this process, so on a
 * small machine they saturate before the gateway does: the streams/s figure
 * is a floor, and the gateway's CPU per stream says what it could carry.
 *
 *   npx tsc -p lib/gateway/tsconfig.json && node --import tsx bench/proxy.ts [--quick] [--check] [--relative-only] [--tolerance F] [--goal ID=LIMIT]
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { benchArgs, Goals, median, relativeSlopePercent } from './goals.js';

const args = benchArgs({ quick: { type: 'boolean', default: false } });
const goals = new Goals('bench/proxy.ts', args);
const quick = args.quick;
const LATENCY_SAMPLES = quick ? 500 : 5000;
const WARMUP = quick ? 200 : 1000;
const CONCURRENCY = 50;
const ROUND_MS = quick ? 1500 : 5000;
// Rounds through the gateway, each after one direct round. The first ones warm the gateway up: V8 grows
// its heap in steps to fit the load (about 8 s of it here), then the low point after GC stays put.
const ROUNDS = 8;
const WARMUP_ROUNDS = quick ? 5 : 3;
const EVENTS_PER_STREAM = 40;
const CLIENT_TOKEN = 'bench-client-token';

const gatewayJs = fileURLToPath(new URL('../dist/gateway/main.js', import.meta.url));
if (!existsSync(gatewayJs)) {
  console.error(`${gatewayJs} is missing: run "npx tsc -p lib/gateway/tsconfig.json" first.`);
  process.exit(1);
}

// --- fake upstream ----------------------------------------------------------

const sse = (event: string, data: unknown) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
const streamEvents = [
  sse('message_start', {
    type: 'message_start',
    message: {
      id: 'msg_b',
      type: 'message',
      role: 'assistant',
      model: 'claude-bench',
      content: [],
      usage: { input_tokens: 120, output_tokens: 1 },
    },
  }),
  sse('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
  ...Array.from({ length: EVENTS_PER_STREAM }, (_, i) =>
    sse('content_block_delta', {
      type: 'content_block_delta',
      index: 0,
      delta: { type: 'text_delta', text: `token ${i} of a streamed reply ` },
    }),
  ),
  sse('content_block_stop', { type: 'content_block_stop', index: 0 }),
  sse('message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: EVENTS_PER_STREAM } }),
  sse('message_stop', { type: 'message_stop' }),
];
const streamBytes = streamEvents.reduce((n, e) => n + Buffer.byteLength(e), 0);
const jsonReply = JSON.stringify({
  id: 'msg_b',
  type: 'message',
  model: 'claude-bench',
  content: [{ type: 'text', text: 'ok' }],
  usage: { input_tokens: 10, output_tokens: 1 },
});

const upstream = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    if (!Buffer.concat(chunks).includes('"stream":true')) {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(jsonReply) });
      res.end(jsonReply);
      return;
    }
    // One write per event, yielding in between, as a real stream arrives.
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    let i = 0;
    const next = () => {
      if (res.destroyed) return;
      if (i === streamEvents.length) {
        res.end();
        return;
      }
      res.write(streamEvents[i++]);
      setImmediate(next);
    };
    next();
  });
});
await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
const upstreamPort = (upstream.address() as AddressInfo).port;

// --- gateway child ----------------------------------------------------------

const child = spawn(process.execPath, [gatewayJs], {
  env: {
    PATH: process.env.PATH,
    PORT: '0',
    CCTL_UPSTREAM_URL: `http://127.0.0.1:${upstreamPort}`,
    CCTL_AUTH_MODE: 'team-key',
    CCTL_CLIENT_TOKEN: CLIENT_TOKEN,
    ANTHROPIC_API_KEY: 'sk-bench-team-key',
  },
  stdio: ['ignore', 'pipe', 'inherit'],
});
let logLines = 0;
const gatewayPort = await new Promise<number>((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error('the gateway did not start within 10 s')), 10_000);
  child.once('exit', (code) => reject(new Error(`the gateway exited with ${code}`)));
  // Reading every line keeps the pipe drained, as a container runtime would.
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (line.includes('"event":"listening"')) {
      clearTimeout(timer);
      resolve((JSON.parse(line) as { port: number }).port);
    } else {
      logLines += 1;
    }
  });
});
/** user + system CPU seconds of the gateway process (fields 14 and 15 of /proc/<pid>/stat, in clock ticks of 1/100 s). */
const cpuSeconds = () => {
  const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8')
    .replace(/^.*\) /, '')
    .split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
};
const memory = (field: 'VmRSS' | 'VmHWM') => {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : NaN;
};

// --- client -----------------------------------------------------------------

function request(
  port: number,
  agent: http.Agent,
  body: string,
  viaGateway: boolean,
): Promise<{ status: number; bytes: number; text: string }> {
  return new Promise((resolve, reject) => {
    const headers: http.OutgoingHttpHeaders = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
    if (viaGateway) headers.authorization = `Bearer ${CLIENT_TOKEN}`;
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/messages', headers, agent }, (res) => {
      let bytes = 0;
      let tail = '';
      res.on('data', (c: Buffer) => {
        bytes += c.length;
        tail = (tail + c.toString('latin1')).slice(-64);
      });
      res.on('end', () => resolve({ status: res.statusCode!, bytes, text: tail }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const fmt = (ms: number) => `${ms.toFixed(3)} ms`;

const smallBody = JSON.stringify({ model: 'claude-bench', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] });
const streamBody = JSON.stringify({ model: 'claude-bench', max_tokens: 64, stream: true, messages: [{ role: 'user', content: 'hi' }] });

async function latency(): Promise<void> {
  // One socket each, so every sample is one request on a warm connection.
  const directAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const gatewayAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  for (let i = 0; i < WARMUP; i++) {
    await request(upstreamPort, directAgent, smallBody, false);
    await request(gatewayPort, gatewayAgent, smallBody, true);
  }
  const direct: number[] = [];
  const through: number[] = [];
  // Interleaved, so drift on the machine affects both sides alike.
  for (let i = 0; i < LATENCY_SAMPLES; i++) {
    let t0 = process.hrtime.bigint();
    await request(upstreamPort, directAgent, smallBody, false);
    direct.push(Number(process.hrtime.bigint() - t0) / 1e6);
    t0 = process.hrtime.bigint();
    const r = await request(gatewayPort, gatewayAgent, smallBody, true);
    through.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (r.status !== 200) throw new Error(`gateway answered ${r.status}`);
  }
  directAgent.destroy();
  gatewayAgent.destroy();
  direct.sort((a, b) => a - b);
  through.sort((a, b) => a - b);
  console.log(`\nLatency, ${LATENCY_SAMPLES} sequential small JSON requests each (keep-alive, interleaved)`);
  console.log(`  direct   p50 ${fmt(percentile(direct, 50))}  p99 ${fmt(percentile(direct, 99))}`);
  console.log(`  gateway  p50 ${fmt(percentile(through, 50))}  p99 ${fmt(percentile(through, 99))}`);
  console.log(
    `  added    p50 ${fmt(percentile(through, 50) - percentile(direct, 50))}  p99 ${fmt(percentile(through, 99) - percentile(direct, 99))}`,
  );
  goals.check('added-p50-ms', 'latency the gateway adds, p50', percentile(through, 50) - percentile(direct, 50), '<=', 1, 'ms', 'absolute');
  goals.check('latency-ratio-p50', 'gateway p50 / direct p50', percentile(through, 50) / percentile(direct, 50), '<=', 6, 'x', 'relative');
}

/** One round; its streams per second (by the measured duration) and, through the gateway, its lowest RSS. */
async function throughput(port: number, viaGateway: boolean, label: string): Promise<{ rate: number; lowRss: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const stopAt = Date.now() + ROUND_MS;
  let completed = 0;
  let bytes = 0;
  const rssSamples: number[] = [];
  const sampler = viaGateway ? setInterval(() => rssSamples.push(memory('VmRSS')), 100) : undefined;
  const cpuBefore = viaGateway ? cpuSeconds() : 0;
  const started = process.hrtime.bigint();
  // Each worker runs until the round's time is up (and at most 100k requests,
  // so the loop is bounded even if the clock misbehaves).
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (Date.now() < stopAt && completed < 100_000) {
        const r = await request(port, agent, streamBody, viaGateway);
        if (r.status !== 200 || r.bytes !== streamBytes || !r.text.includes('message_stop')) {
          throw new Error(`bad stream: status ${r.status}, ${r.bytes}/${streamBytes} bytes`);
        }
        completed += 1;
        bytes += r.bytes;
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (sampler) clearInterval(sampler);
  const cpuMsPerStream = viaGateway ? ((cpuSeconds() - cpuBefore) * 1000) / completed : 0;
  agent.destroy();
  const events = completed * streamEvents.length;
  const result = { rate: completed / seconds, lowRss: viaGateway ? Math.min(...rssSamples) : NaN };
  console.log(
    `  ${label.padEnd(8)} ${(completed / seconds).toFixed(0).padStart(6)} streams/s  ${(events / seconds).toFixed(0).padStart(7)} events/s  ${(bytes / seconds / 1e6).toFixed(1).padStart(5)} MB/s  (${completed} streams in ${seconds.toFixed(1)} s)` +
      (viaGateway
        ? `\n           gateway CPU ${cpuMsPerStream.toFixed(3)} ms per stream (~${(1000 / cpuMsPerStream).toFixed(0)} streams/s per core), RSS during ${Math.min(...rssSamples).toFixed(1)}-${Math.max(...rssSamples).toFixed(1)} MiB`
        : ''),
  );
  return result;
}

try {
  console.log(`Gateway ${gatewayJs} (node ${process.version}), fake upstream on 127.0.0.1:${upstreamPort}${quick ? ', --quick' : ''}`);
  const idleRss = memory('VmRSS');
  console.log(`Gateway RSS idle: ${idleRss.toFixed(1)} MiB`);
  await latency();
  console.log(`Gateway RSS after latency run: ${memory('VmRSS').toFixed(1)} MiB`);
  console.log(
    `\nThroughput, ${CONCURRENCY} concurrent SSE streams of ${streamEvents.length} events (${streamBytes} bytes) for ${ROUND_MS / 1000} s`,
  );
  // Identical rounds, direct and through the gateway in turn so drift hits both: steady memory shows as a
  // low point (after GC) that stops rising. The first half are warm-up: V8 grows its heap to fit the load.
  const direct: number[] = [];
  const through: number[] = [];
  const lows: number[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const d = await throughput(upstreamPort, false, `direct ${round}`);
    const g = await throughput(gatewayPort, true, `round ${round}`);
    if (round > WARMUP_ROUNDS) (direct.push(d.rate), through.push(g.rate));
    lows.push(g.lowRss);
  }
  console.log(
    `\nGateway memory: RSS idle ${idleRss.toFixed(1)} MiB; lowest in each load round ${lows.map((x) => x.toFixed(1)).join(', ')} MiB; peak (VmHWM) ${memory('VmHWM').toFixed(1)} MiB`,
  );
  goals.check(
    'throughput-ratio',
    `gateway / direct streams/s, medians of rounds ${WARMUP_ROUNDS + 1}-${ROUNDS}`,
    median(through) / median(direct),
    '>=',
    0.5,
    'x',
    'relative',
  );
  goals.check(
    'rss-slope',
    `slope of the lowest RSS per round, rounds ${WARMUP_ROUNDS + 1}-${ROUNDS}`,
    relativeSlopePercent(lows.slice(WARMUP_ROUNDS)),
    '<=',
    5,
    '%/round',
    'relative',
  );
  await new Promise((r) => setTimeout(r, 200));
  console.log(`Log lines written by the gateway: ${logLines}`);
  goals.finish();
} finally {
  child.kill('SIGTERM');
  upstream.closeAllConnections();
  upstream.close();
}
