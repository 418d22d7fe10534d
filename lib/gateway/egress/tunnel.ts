/**
 * HTTP CONNECT: the tunnel that carries HTTPS (and anything else over TCP)
 * for the stack's containers to an allowed destination. Bytes are piped
 * both ways untouched; the gateway never sees inside the TLS.
 */
import net from 'node:net';
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import type { LogWriter } from '../log.js';
import { type Destination, hostPort } from './allow-list.js';
import type { EgressConfig } from './config.js';
import { decide } from './decide.js';
import { EgressRecord } from './record.js';
import { answerSocket, denialAnswer, failureAnswer } from './respond.js';

export interface EgressContext {
  egress: EgressConfig | undefined;
  write: LogWriter;
  connectTimeoutMs: number;
  idleTimeoutMs: number;
  /** Client sockets of open tunnels, so that closing the gateway can end them. */
  tunnels: Set<Duplex>;
}

const ESTABLISHED = 'HTTP/1.1 200 Connection Established\r\n\r\n';
/** libuv reads at most 64 KiB at a time anyway; one such buffer per tunnel is reused for every read. */
const READ_BUFFER_BYTES = 64 * 1024;

/** The server's 'connect' listener. */
export function handleConnect(ctx: EgressContext, req: http.IncomingMessage, client: Duplex, head: Buffer): void {
  const source = req.socket.remoteAddress;
  const record = new EgressRecord(ctx.write, 'connect', source);
  client.on('error', () => {});
  const decision = decide(ctx.egress, source, req.url ?? '', 443);
  if (decision.destination) record.destination(decision.destination);
  if (!decision.allowed) {
    record.denied(decision.reason, decision.status);
    answerSocket(client, denialAnswer(decision));
    record.finish(0, 0);
    return;
  }
  if (ctx.tunnels.size >= ctx.egress!.maxTunnels) {
    const answer = { status: 503, proxyStatus: 'proxy_configuration_error', body: `cctl gateway: ${ctx.tunnels.size} tunnels are open, the most this gateway allows (CCTL_EGRESS_MAX_TUNNELS).\n` };
    record.status = 503;
    record.error = 'too many tunnels';
    answerSocket(client, answer);
    record.finish(0, 0);
    return;
  }
  new Tunnel(ctx, client, head, decision.destination, record).open();
}

class Tunnel {
  private readonly upstream: net.Socket;
  private established = false;
  private closedSides = 0;

  constructor(
    private readonly ctx: EgressContext,
    private readonly client: Duplex,
    private readonly head: Buffer,
    private readonly destination: Destination,
    private readonly record: EgressRecord,
  ) {
    // allowHalfOpen: each direction ends on its own, as TCP allows; a client
    // that has sent everything may still be reading the reply.
    // onread: the download direction, usually the heavy one, reads into one
    // reused buffer instead of a new one per read, which halves the CPU the
    // gateway spends per byte (bench/egress.ts).
    this.upstream = net.connect({
      host: destination.host,
      port: destination.port,
      allowHalfOpen: true,
      noDelay: true,
      onread: { buffer: Buffer.allocUnsafe(READ_BUFFER_BYTES), callback: (bytes: number, buffer: Uint8Array) => this.relayDown(buffer, bytes) },
    });
  }

  open(): void {
    const { ctx, client, upstream } = this;
    ctx.tunnels.add(client);
    const connectTimer = setTimeout(() => this.failed('timeout'), ctx.connectTimeoutMs);
    upstream.once('connect', () => {
      clearTimeout(connectTimer);
      this.establish();
    });
    upstream.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(connectTimer);
      if (!this.established) this.failed(error.code ?? error.message);
      else {
        this.record.error = error.code ?? error.message;
        client.destroy();
      }
    });
    // A client that leaves frees the upstream socket at once.
    client.on('close', () => {
      clearTimeout(connectTimer);
      upstream.destroy();
      this.sideClosed();
    });
    upstream.on('close', () => {
      // After a clean end the pipe has already ended the client side, which
      // flushes; a hard close leaves nothing worth flushing.
      if (!client.writableEnded) client.destroy();
      this.sideClosed();
    });
  }

  /** Tells the client the tunnel is up, then pipes both ways. */
  private establish(): void {
    const { client, upstream, head } = this;
    this.established = true;
    this.record.status = 200;
    client.write(ESTABLISHED);
    if (head.length) upstream.write(head);
    const idle = () => {
      this.record.error = 'idle timeout';
      client.destroy();
      upstream.destroy();
    };
    upstream.setTimeout(this.ctx.idleTimeoutMs, idle);
    client.pipe(upstream);
    upstream.on('end', () => client.end());
  }

  /**
   * One read from the destination, in the reused buffer. When the client's
   * socket took it all at once the buffer is free again; otherwise the write
   * still points into it, so reading pauses until the client drains.
   */
  private relayDown(buffer: Uint8Array, bytes: number): boolean {
    const { client, upstream } = this;
    client.write(buffer.subarray(0, bytes));
    if (client.writableLength === 0) return true;
    client.once('drain', () => upstream.resume());
    return false;
  }

  private failed(code: string): void {
    if (this.established) return;
    const answer = failureAnswer(code, hostPort(this.destination));
    this.record.status = answer.status;
    this.record.error = code;
    this.upstream.destroy();
    answerSocket(this.client, answer);
  }

  private sideClosed(): void {
    this.closedSides += 1;
    if (this.closedSides < 2) return;
    this.ctx.tunnels.delete(this.client);
    this.record.finish(this.upstream.bytesWritten, this.upstream.bytesRead);
  }
}
