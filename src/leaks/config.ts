/**
 * `leakReports`: who may report leaked Tessera tokens to `POST /api/v1/leaked-tokens/github`.
 * GitHub's secret-scanning partner program signs each report with an ECDSA key it publishes at
 * https://api.github.com/meta/public_keys/secret_scanning; Tessera verifies against the keys
 * configured here and fetches nothing, so a report is only as trusted as the operator's config.
 */
import { z } from 'zod';

const publicKey = z.strictObject({
  /** The `Github-Public-Key-Identifier` the key is sent under. */
  id: z.string().min(1).max(200),
  /** The ECDSA public key, PEM (`-----BEGIN PUBLIC KEY-----`). */
  key: z.string().includes('BEGIN PUBLIC KEY'),
});

export const leakReportsSchema = z.strictObject({
  /** Keys of GitHub secret scanning. Empty: the GitHub endpoint refuses every report. */
  github: z.strictObject({ keys: z.array(publicKey).default([]) }).default({ keys: [] }),
});

export type LeakReportsConfig = z.output<typeof leakReportsSchema>;
