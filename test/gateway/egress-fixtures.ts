/**
 * Pieces for the egress tests: destinations of the test's own on 127.0.0.1
 * (a TLS echo server with a throwaway certificate, a plain TCP echo), a
 * gateway with egress on, and a CONNECT client.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import type { GatewayConfig } from '../../lib/gateway/config.js';
import { egressFromEnv } from '../../lib/gateway/egress/config.js';
import type { EgressLog } from '../../lib/gateway/egress/record.js';
import { deadline, startGateway, type Started } from './fixtures.js';

export interface Destination {
  port: number;
  /** The destination side of every connection, open or closed. */
  sockets: net.Socket[];
  close(): Promise<void>;
}

async function listen(server: net.Server, sockets: net.Socket[]): Promise<Destination> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    sockets,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A TCP server that echoes every byte back. */
export function startEcho(): Promise<Destination> {
  const sockets: net.Socket[] = [];
  const server = net.createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => {});
    socket.pipe(socket);
  });
  return listen(server, sockets);
}

export interface TlsMaterial {
  key: Buffer;
  cert: Buffer;
}

/** A throwaway self-signed certificate for allowed.test and 127.0.0.1. */
export function makeCertificate(): TlsMaterial {
  const dir = mkdtempSync(join(tmpdir(), 'cctl-egress-tls-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=allowed.test',
        '-addext',
        'subjectAltName=DNS:allowed.test,IP:127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'pipe' },
    );
    return { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A TLS server that echoes every byte back. */
export function startTlsEcho(material: TlsMaterial): Promise<Destination> {
  const sockets: net.Socket[] = [];
  const server = tls.createServer(material, (socket) => {
    socket.on('error', () => {});
    socket.pipe(socket);
  });
  server.on('connection', (socket: net.Socket) => sockets.push(socket));
  return listen(server, sockets);
}

export interface EgressGateway extends Started {
  egressLogs(): EgressLog[];
}

/** A gateway whose egress allows `allow` (CCTL_EGRESS_ALLOW syntax); `env` adds the other CCTL_EGRESS_* variables. */
export async function startEgressGateway(
  allow: string,
  env: Record<string, string> = {},
  overrides: Partial<GatewayConfig> = {},
): Promise<EgressGateway> {
  const egress = egressFromEnv({ CCTL_EGRESS_ALLOW: allow, ...env })!;
  // The API upstream is never called by these tests; a closed port makes sure.
  const started = await startGateway('http://127.0.0.1:9', { egress, ...overrides });
  return {
    ...started,
    egressLogs: () => started.logs.filter((l) => (l as unknown as EgressLog).event === 'egress') as unknown as EgressLog[],
  };
}

export interface ConnectResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  socket?: net.Socket;
}

/**
 * Sends CONNECT target through the gateway; on 200 the socket is the open
 * tunnel. `withinMs`: 5 s for one CONNECT; a test that opens hundreds at once
 * on a loaded machine gives more (its rounds have deadlines of their own).
 */
export function connect(gatewayPort: number, target: string, withinMs = 5000): Promise<ConnectResult> {
  return deadline(
    new Promise<ConnectResult>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: gatewayPort, method: 'CONNECT', path: target, agent: false });
      req.on('connect', (res, socket, head: Buffer) => {
        if (res.statusCode === 200) {
          if (head.length) socket.unshift(head);
          resolve({ status: 200, headers: res.headers, body: '', socket });
          return;
        }
        let body = head.toString();
        socket.on('data', (d) => (body += d.toString()));
        socket.on('error', () => {});
        socket.on('close', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      });
      req.on('error', reject);
      req.end();
    }),
    withinMs,
    `CONNECT ${target}`,
  );
}

/** Writes `payload` into the socket and resolves with as many bytes back. */
export function echoRoundTrip(socket: net.Socket | tls.TLSSocket, payload: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let got = 0;
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      got += chunk.length;
      if (got >= payload.length) {
        socket.off('data', onData);
        resolve(Buffer.concat(chunks));
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.write(payload);
  });
}

/**
 * The glibc malloc variables the proxy image sets (ENV in docker/proxy.Dockerfile), so that a gateway a
 * test or a bench starts as a process allocates as it does in the image.
 */
export function imageMallocEnv(): Record<string, string> {
  const dockerfile = readFileSync(fileURLToPath(new URL('../../docker/proxy.Dockerfile', import.meta.url)), 'utf8');
  return Object.fromEntries([...dockerfile.matchAll(/\b(MALLOC_[A-Z_]+)=(\S+)/g)].map((m) => [m[1]!, m[2]!]));
}
