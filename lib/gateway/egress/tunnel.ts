/**
 * HTTP CONNECT: the tunnel that carries HTTPS (and anything else over TCP)
 * for the stack's containers to an allowed destination, dialled at the
 * address checked after one lookup (address-check.ts). Bytes are piped
 * both ways untouched; the gateway never sees inside the TLS.
 */
import net from 'node:net';
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import type { LogWriter } from '../log.js';
import type { EgressConfig } from './config.js';
import { decide, resolveDestination } from './decide.js';
import { type Destination, hostPort } from './grammar.js';
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
    const answer = {
      status: 503,
      proxyStatus: 'proxy_configuration_error',
      body: `cctl gateway: ${ctx.tunnels.size} tunnels are open, the most this gateway allows (CCTL_EGRESS_MAX_TUNNELS).\n`,
    };
    record.status = 503;
    record.error = 'too many tunnels';
    answerSocket(client, answer);
    record.finish(0, 0);
    return;
  }
  new Tunnel(ctx, client, head, decision.destination, record).open();
}

class Tunnel {
  private upstream: net.Socket | undefined;
  private established = false;
  /** The client has been answered with a failure: no upstream is opened after all, and no second answer. */
  private abandoned = false;
  private clientClosed = false;
  private upstreamClosed = false;
  private finished = false;
  private connectTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ctx: EgressContext,
    private readonly client: Duplex,
    private readonly head: Buffer,
    private readonly destination: Destination,
    private readonly record: EgressRecord,
  ) {}

  open(): void {
    const { ctx, client } = this;
    ctx.tunnels.add(client);
    // One deadline for the lookup and the connection together.
    this.connectTimer = setTimeout(() => this.failed('timeout'), ctx.connectTimeoutMs);
    // A client that leaves frees the upstream socket at once.
    client.on('close', () => {
      clearTimeout(this.connectTimer);
      this.upstream?.destroy();
      this.clientClosed = true;
      this.finish();
    });
    void this.dial();
  }

  /** Resolves the name once, checks the addresses, and dials the checked one (never the name again). */
  private async dial(): Promise<void> {
    const resolved = await resolveDestination(this.ctx.egress!, this.destination);
    if (this.abandoned || this.clientClosed) return this.noUpstream();
    if ('error' in resolved) {
      this.failed(resolved.error);
      return this.noUpstream();
    }
    this.record.address = resolved.address;
    if ('denial' in resolved) {
      clearTimeout(this.connectTimer);
      this.record.denied(resolved.denial.reason, resolved.denial.status);
      answerSocket(this.client, denialAnswer(resolved.denial));
      return this.noUpstream();
    }
    this.connect(resolved.address);
  }

  private connect(address: string): void {
    const { client } = this;
    // allowHalfOpen: each direction ends on its own, as TCP allows; a client
    // that has sent everything may still be reading the reply.
    // onread: the download direction, usually the heavy one, reads into one
    // reused buffer instead of a new one per read, which halves the CPU the
    // gateway spends per byte (bench/egress.ts).
    const upstream = this.ctx.egress!.net.connect({
      host: address,
      port: this.destination.port,
      allowHalfOpen: true,
      noDelay: true,
      onread: {
        buffer: Buffer.allocUnsafe(READ_BUFFER_BYTES),
        callback: (bytes: number, buffer: Uint8Array) => this.relayDown(buffer, bytes),
      },
    });
    this.upstream = upstream;
    upstream.once('connect', () => {
      clearTimeout(this.connectTimer);
      this.establish();
    });
    upstream.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(this.connectTimer);
      if (!this.established) this.failed(error.code ?? error.message);
      else {
        this.record.error = error.code ?? error.message;
        client.destroy();
      }
    });
    upstream.on('close', () => {
      // After a clean end the pipe has already ended the client side, which
      // flushes; a hard close leaves nothing worth flushing.
      if (!client.writableEnded) client.destroy();
      this.upstreamClosed = true;
      this.finish();
    });
  }

  /** Tells the client the tunnel is up, then pipes both ways. */
  private establish(): void {
    const { client, head } = this;
    const upstream = this.upstream!;
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
    const { client } = this;
    client.write(buffer.subarray(0, bytes));
    if (client.writableLength === 0) return true;
    client.once('drain', () => this.upstream!.resume());
    return false;
  }

  private failed(code: string): void {
    if (this.established || this.abandoned) return;
    clearTimeout(this.connectTimer);
    const answer = failureAnswer(code, hostPort(this.destination));
    this.record.status = answer.status;
    this.record.error = code;
    this.abandoned = true;
    this.upstream?.destroy();
    answerSocket(this.client, answer);
  }

  /** The lookup ended without a connection: the upstream side counts as closed. */
  private noUpstream(): void {
    this.upstreamClosed = true;
    this.finish();
  }

  private finish(): void {
    if (this.finished || !this.clientClosed || !this.upstreamClosed) return;
    this.finished = true;
    this.ctx.tunnels.delete(this.client);
    this.record.finish(this.upstream?.bytesWritten ?? 0, this.upstream?.bytesRead ?? 0);
  }
}
