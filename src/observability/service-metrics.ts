/**
 * Counts what the services decide — sign-ins, lockouts, introspections — and reports identity
 * source health, by observing the service objects the composition root built. The services stay
 * free of metrics code; what they return or throw is the outcome.
 */
import { TemporarilyUnavailable, TooManyRequests, Unauthorized } from '../errors.js';
import type { LoginService } from '../identity/login.js';
import type { IdentitySource } from '../identity/source.js';
import type { Introspection } from '../oauth/introspection.js';
import { claimedKind } from '../tokens/format.js';
import { RateLimitedWarning, type Logger } from './logger.js';
import type { LoginOutcome, Metrics, SourceHealth } from './metrics.js';

function loginOutcome(err: unknown): LoginOutcome {
  if (err instanceof TooManyRequests) return 'throttled';
  if (err instanceof Unauthorized) return 'failed';
  if (err instanceof TemporarilyUnavailable) return 'unavailable';
  return 'error';
}

/**
 * Every password sign-in (API, web page, OIDC interaction) goes through `LoginService.signIn`
 * (`login` calls it too): counted there by source and outcome. Lockouts are also an operator
 * warning, rate-limited because a guessing attack produces one per attempt.
 */
export function meterLogins(login: LoginService, metrics: Metrics, logger: Logger): void {
  const lockouts = new RateLimitedWarning(logger, 'sign-in attempts throttled (failed-login lockout)');
  const original = login.signIn.bind(login);
  login.signIn = async (attempt) => {
    try {
      const signedIn = await original(attempt);
      metrics.logins.inc({ source: signedIn.user.source, outcome: 'succeeded' });
      return signedIn;
    } catch (err) {
      const outcome = loginOutcome(err);
      metrics.logins.inc({ source: attempt.source ?? 'any', outcome });
      if (outcome === 'throttled') {
        metrics.throttled.inc();
        // The name tried and the IP, never the password.
        lockouts.note({ username: attempt.username.slice(0, 256), ip: attempt.ip });
      }
      throw err;
    }
  };
}

/** The kind of a Tessera secret (pat, access, refresh), `unknown` for anything else. */
export const tokenKind = (token: string): string => claimedKind(token) ?? 'unknown';

/** Introspections of Tessera's own tokens, by kind and answer. */
export function meterIntrospection(introspection: Introspection, metrics: Metrics): void {
  const original = introspection.introspect.bind(introspection);
  // Label children made once per kind and result (both bounded sets), not looked up per call.
  const counters = new Map<string, { inc(): void }>();
  const count = (kind: string, result: string): void => {
    const key = `${kind} ${result}`;
    let counter = counters.get(key);
    if (!counter) counters.set(key, (counter = metrics.introspections.labels(kind, result)));
    counter.inc();
  };
  introspection.introspect = (client, token, ip, parsed) =>
    original(client, token, ip, parsed).then(
      (answer) => {
        count(tokenKind(token), answer.active ? 'active' : 'inactive');
        return answer;
      },
      (err: unknown) => {
        count(tokenKind(token), 'error');
        throw err;
      },
    );
}

/** `tessera_identity_source_up`, read at scrape time from what each source last saw. */
export function reportSourceHealth(metrics: Metrics, sources: { kind: string; source: IdentitySource }[]): void {
  metrics.sourceHealth = () =>
    sources.flatMap(({ kind, source }): SourceHealth[] => {
      const up = source.up?.();
      return up === undefined ? [] : [{ kind, source: source.id, up }];
    });
}
