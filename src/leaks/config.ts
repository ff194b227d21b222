/**
 * `leakReports`: who may report leaked Tessera tokens to `POST /api/v1/leaked-tokens/github`.
 * GitHub's secret-scanning partner program signs each report with an ECDSA key it publishes at
 * https://api.github.com/meta/public_keys/secret_scanning; Tessera verifies against the keys
 * configured here and fetches nothing, so a report is only as trusted as the operator's config.
 */
import { createPublicKey } from 'node:crypto';
import { z } from 'zod';

/** The PEM parses as an EC public key (GitHub signs with ECDSA P-256): caught at start-up, not at the first report. */
function isEcPublicKey(pem: string): boolean {
  try {
    return createPublicKey(pem).asymmetricKeyType === 'ec';
  } catch {
    return false;
  }
}

const publicKey = z.strictObject({
  /** The `Github-Public-Key-Identifier` the key is sent under. */
  id: z.string().min(1).max(200),
  /** The ECDSA public key, PEM (`-----BEGIN PUBLIC KEY-----`). */
  key: z.string().refine(isEcPublicKey, 'must be an ECDSA public key in PEM (-----BEGIN PUBLIC KEY-----)'),
});

export const leakReportsSchema = z.strictObject({
  /** Keys of GitHub secret scanning. Empty: the GitHub endpoint refuses every report. */
  github: z.strictObject({ keys: z.array(publicKey).default([]) }).default({ keys: [] }),
});

export type LeakReportsConfig = z.output<typeof leakReportsSchema>;
