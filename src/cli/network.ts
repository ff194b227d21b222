/**
 * What every request of the CLI shares: a deadline, so a black-holed server or a DNS lookup that
 * never returns cannot hang a script, and one readable line for network failures instead of
 * undici's "fetch failed".
 */
import { CliError } from './errors.js';

export const REQUEST_TIMEOUT_MS = 30_000;

export function withDeadline(init: RequestInit = {}): RequestInit {
  return { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) };
}

/** `where` is what the person knows: the server URL, or the endpoint discovery named. */
export function networkError(where: string, err: unknown): CliError {
  if (err instanceof CliError) return err;
  if ((err as Error).name === 'TimeoutError') return new CliError(`${where} did not answer within ${REQUEST_TIMEOUT_MS / 1000}s`);
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return new CliError(`cannot reach ${where}: ${cause?.code ?? cause?.message ?? (err as Error).message}`);
}
