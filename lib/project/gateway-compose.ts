/**
 * The team gateway folder's compose.yaml (team-gateway.ts writes it): the
 * gateway service with its secrets, ledger volume and health check, the
 * marker that records how init set it up, and its Postgres service when it
 * has one.
 */
import { isIPv6 } from 'node:net';
import { join } from 'node:path';
import {
  POSTGRES_PASSWORD_FILE,
  POSTGRES_SERVICE,
  POSTGRES_VOLUME,
  type PostgresService,
  postgresServiceText,
} from './gateway-postgres.js';

export const GATEWAY_SERVICE = 'gateway';
export const GATEWAY_MARKER = 'x-cctl-gateway';
export const DEFAULT_GATEWAY_DIR = 'team-gateway';
export const LEDGER_VOLUME = 'ledger';
export const KEY_FILE = join('secrets', 'anthropic-api-key');
export const ADMIN_TOKEN_FILE = join('secrets', 'admin-token');

export interface GatewaySetup {
  port: number;
  upstream: string;
  baseImage: string;
  retentionDays: number;
  tls: boolean;
  buildHash: string;
  /** The host address the port is published on (docker's -p ADDR:PORT:3000). */
  listen: string;
  /** The image tag, with the folder's project name in it (gatewayImage). */
  image: string;
  /** postgres: the URL in secrets/ledger-url (gateway-ledger.ts); sqlite: the file in the volume. */
  ledger?: 'sqlite' | 'postgres';
  /** `--ledger postgres`: a Postgres service in this project; built from .cctl/postgres unless the team named its own image. */
  postgres?: PostgresService;
}

/** host:port:3000 as docker's short port syntax takes it (IPv6 in brackets). */
export function publishedPort(listen: string, port: number): string {
  return `${isIPv6(listen) ? `[${listen}]` : listen}:${port}:3000`;
}

export function gatewayComposeText(s: GatewaySetup): string {
  const tls = s.tls ? `      CCTL_TLS_CERT_FILE: /run/secrets/tls_cert\n      CCTL_TLS_KEY_FILE: /run/secrets/tls_key\n` : '';
  const tlsSecrets = s.tls ? '\n      - tls_cert\n      - tls_key' : '';
  const tlsFiles = s.tls ? '\n  tls_cert:\n    file: ./secrets/tls.crt\n  tls_key:\n    file: ./secrets/tls.key' : '';
  const pg = s.ledger === 'postgres';
  return `# The cctl team gateway: the team's one API gateway. It holds the real key,
# admits members by their own tokens, and records each request in a ledger
# (SQLite in the "${LEDGER_VOLUME}" volume). Written by "cctl gateway init"; plain
# "docker compose up -d" runs it too. The project is named after the folder (no
# top-level name:, which Compose v1 does not know): the volume is <folder>_${LEDGER_VOLUME}.

${GATEWAY_MARKER}:
  version: 1
  port: ${s.port}
  tls: ${s.tls}
  # The host address the port is published on: 127.0.0.1 (this machine only)
  # unless TLS is on or "cctl gateway init --listen ADDR" widened it.
  listen: "${s.listen}"
  ledger: ${s.ledger ?? 'sqlite'}

services:
  ${GATEWAY_SERVICE}:
    build:
      context: .cctl/proxy
      args:
        BASE_IMAGE: ${s.baseImage}
        # Changes with the gateway's files; cctl compares it with the image's label.
        CCTL_BUILD_HASH: "${s.buildHash}"
    image: ${s.image}
    restart: unless-stopped
    environment:
      CCTL_GATEWAY_MODE: team
      CCTL_DATA_DIR: /data
      CCTL_UPSTREAM_URL: ${s.upstream}
      ANTHROPIC_API_KEY_FILE: /run/secrets/anthropic_api_key
      CCTL_ADMIN_TOKEN_FILE: /run/secrets/admin_token
      # Request rows older than this many days are pruned (the daily totals stay); 0 keeps them.
      CCTL_RETENTION_DAYS: "${s.retentionDays}"
      # GET /metrics (Prometheus) with this token; not the admin token.
      CCTL_METRICS_TOKEN_FILE: /run/secrets/metrics_token
${pg ? '      # The ledger in Postgres, shared by every replica: the URL is a secret.\n      CCTL_LEDGER_URL_FILE: /run/secrets/ledger_url\n' : ''}      # node:sqlite still prints an experimental warning on Node 22.
      NODE_OPTIONS: --disable-warning=ExperimentalWarning
${tls}    secrets:
      - anthropic_api_key
      - admin_token
      - metrics_token${pg ? '\n      - ledger_url' : ''}${tlsSecrets}
    ports:
      - "${publishedPort(s.listen, s.port)}"${s.postgres ? `\n    depends_on:\n      - ${POSTGRES_SERVICE}` : ''}
    volumes:
      - ${LEDGER_VOLUME}:/data
    read_only: true
    cap_drop: [ALL]
    security_opt: ["no-new-privileges:true"]
    healthcheck:
      # Every 5 s: engines before 25 run the first check only after one interval.
      test: ["CMD", "node", "/app/gateway/main.js", "health"]
      interval: 5s
      timeout: 5s
      retries: 3
      start_period: 10s

${s.postgres ? postgresServiceText(s.postgres, s.baseImage, s.buildHash) : ''}
volumes:
  ${LEDGER_VOLUME}: {}${s.postgres ? `\n  ${POSTGRES_VOLUME}: {}` : ''}

secrets:
  anthropic_api_key:
    file: ./${KEY_FILE}
  admin_token:
    file: ./${ADMIN_TOKEN_FILE}
  metrics_token:
    file: ./secrets/metrics-token${pg ? '\n  ledger_url:\n    file: ./secrets/ledger-url' : ''}${s.postgres ? `\n  postgres_password:\n    file: ./${POSTGRES_PASSWORD_FILE}` : ''}${tlsFiles}
`;
}
