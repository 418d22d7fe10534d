/** Reading numbers from the environment, with errors that name the variable. */
import { GatewayConfigError } from './config-error.js';

export type Env = Record<string, string | undefined>;

export function intFromEnv(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  if (!/^\d+$/.test(raw)) throw new GatewayConfigError(`${name} must be a whole number, got "${raw}".`);
  const value = Number(raw);
  if (value < min || value > max) throw new GatewayConfigError(`${name} must be between ${min} and ${max}, got ${value}.`);
  return value;
}
