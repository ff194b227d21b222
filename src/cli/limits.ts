/**
 * The gateway names request fields (`expires_in exceeds the maximum token lifetime of 365d`);
 * a person typed flags. This rewrites the gateway's limit errors in the words of the command
 * line (`--ttl 400d is longer than the server's maximum of 365d`), keeping the exit code.
 * Anything it does not recognise passes through unchanged.
 */
import { ApiError, CliError } from './errors.js';

/** Request field → [flag, the value typed]. */
export type FlagsOfFields = Record<string, [flag: string, typed: string | undefined]>;

export function inCliTerms(err: unknown, flags: FlagsOfFields): unknown {
  if (!(err instanceof ApiError) || err.code !== 'invalid_request') return err;
  const match = /^(\w+) (exceeds the maximum token lifetime of (\S+)|would outlive the token making this request)$/.exec(err.message);
  const [flag, typed] = (match && flags[match[1]!]) ?? [];
  if (!match || !flag || typed === undefined) return err;
  const max = match[3];
  const message = !max
    ? `${flag} ${typed} would outlive the credential you are using: a token cannot make one that lasts longer than itself`
    : flag === '--expires'
      ? `--expires ${typed} is further away than the server's maximum token lifetime of ${max}`
      : `${flag} ${typed} is longer than the server's maximum of ${max}`;
  return new CliError(message, err.exitCode);
}
