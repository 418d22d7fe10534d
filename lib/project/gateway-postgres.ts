/**
 * The team gateway's own Postgres service (`cctl gateway init --ledger
 * postgres`), as compose.yaml declares it: the image (built from
 * .cctl/postgres, docker/postgres/ in the package, or the team's own), its
 * named volume and its password secret. team-gateway.ts puts it in the file.
 */
import { join } from 'node:path';

export interface PostgresService {
  image: string;
  /** True: cctl builds `image` from .cctl/postgres (Debian's postgresql); false: the team's own image, used as it is. */
  build: boolean;
}

export const POSTGRES_SERVICE = 'postgres';
export const POSTGRES_VOLUME = 'postgres';
export const POSTGRES_PASSWORD_FILE = join('secrets', 'postgres-password');
/** The role and database the service's cluster is created with (docker/postgres/entrypoint.sh). */
export const POSTGRES_USER = 'cctl';

/** The tag cctl builds the folder's Postgres image under, beside the gateway's. */
export function postgresImage(projectName: string): string {
  return `cctl-${projectName}-postgres:local`;
}

/** The Postgres service's image in a compose.yaml cctl wrote, and whether cctl builds it. */
export function postgresOf(text: string): PostgresService | undefined {
  const service = new RegExp(`\\n {2}${POSTGRES_SERVICE}:\\n((?: {4}.*\\n| *\\n)*)`).exec(text)?.[1];
  const image = service && /^ {4}image: (\S+)$/m.exec(service)?.[1];
  return image ? { image, build: /^ {4}build:/m.test(service) } : undefined;
}

/**
 * The ledger's own Postgres (--ledger postgres): on the project's network
 * only (no published port), its data in a named volume, the password a
 * secret file. The health check is pg_isready, which the registry's image
 * has too; the gateway waits for the database itself (up to a minute), so
 * depends_on only orders the start.
 */
export function postgresServiceText(p: PostgresService, baseImage: string, buildHash: string): string {
  const build = p.build
    ? `    build:
      context: .cctl/postgres
      args:
        BASE_IMAGE: ${baseImage}
        CCTL_BUILD_HASH: "${buildHash}"
`
    : '';
  return `  ${POSTGRES_SERVICE}:
    # The ledger's database: Debian's postgresql built here, or the image named by "cctl gateway init --postgres-image".
${build}    image: ${p.image}
    restart: unless-stopped
    environment:
      POSTGRES_USER: ${POSTGRES_USER}
      POSTGRES_DB: ${POSTGRES_USER}
      POSTGRES_PASSWORD_FILE: /run/secrets/postgres_password
      PGDATA: /var/lib/postgresql/data
    secrets:
      - postgres_password
    volumes:
      - ${POSTGRES_VOLUME}:/var/lib/postgresql/data
    cap_drop: [ALL]
    security_opt: ["no-new-privileges:true"]
    # A clean shutdown checkpoints; Docker's default 10 s can cut it short.
    stop_grace_period: 60s
    healthcheck:
      test: ["CMD", "pg_isready", "-h", "127.0.0.1", "-U", "${POSTGRES_USER}", "-d", "${POSTGRES_USER}", "-q"]
      interval: 5s
      timeout: 5s
      retries: 5
      start_period: 30s
`;
}
