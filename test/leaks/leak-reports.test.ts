import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, startTestGateway, type TestGateway } from '../helpers/gateway.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('leaked-token reports', () => {
  let gw: TestGateway;
  let admin: string;
  let githubKey: KeyObject;
  let alice: string;

  /** POSTs a report signed as GitHub's secret scanning does: ECDSA P-256 SHA-256, DER, base64. */
  const githubReport = (items: object[], options: { keyId?: string; key?: KeyObject; tamper?: boolean } = {}) => {
    const body = JSON.stringify(items);
    const signature = sign('sha256', Buffer.from(body), { key: options.key ?? githubKey, dsaEncoding: 'der' }).toString('base64');
    return gw.api('POST', '/api/v1/leaked-tokens/github', {
      body: options.tamper ? body.replace('content', 'commit') : body,
      headers: { 'Github-Public-Key-Identifier': options.keyId ?? 'gh-key-1', 'Github-Public-Key-Signature': signature },
    });
  };
  const newPat = async (owner: string, name: string) => (await gw.api('POST', '/api/v1/tokens', { token: owner, body: { name } })).body as { id: string; token: string };

  beforeAll(async () => {
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    githubKey = pair.privateKey;
    gw = await startTestGateway({
      config: { leakReports: { github: { keys: [{ id: 'gh-key-1', key: pair.publicKey.export({ type: 'spki', format: 'pem' }) }] } } },
    });
    admin = await gw.login('admin', ADMIN_PASSWORD);
    await gw.api('POST', '/api/v1/users', { token: admin, body: { username: 'alice', password: 'alice-password-1' } });
    alice = await gw.login('alice', 'alice-password-1');
  });
  afterAll(() => gw?.stop());

  it('a signed GitHub report revokes the token and the owner sees who reported it and where', async () => {
    const pat = await newPat(alice, 'laptop');
    const url = 'https://github.com/acme/models/blob/abc123/.env';
    const res = await githubReport([{ token: pat.token, type: 'tessera_personal_access_token', url, source: 'content' }]);
    expect(res.status).toBe(200);
    expect(res.body).toEqual([{ token_hash: sha256(pat.token), token_type: 'tessera_pat', label: 'true_positive' }]);
    expect(JSON.stringify(res.body)).not.toContain(pat.token);
    expect((await gw.introspect(pat.token)).body).toEqual({ active: false });

    const shown = await gw.api('GET', `/api/v1/tokens/${pat.id}`, { token: alice });
    expect(shown.body.status).toBe('revoked');
    expect(shown.body.revoked_by).toBe(`leak report by GitHub secret scanning: found at ${url} (content)`);

    // The owner's security log says it was revoked, and who reported it where.
    const log = (await gw.api('GET', '/api/v1/me/events', { token: alice })).body.events as any[];
    expect(log.find((e) => e.type === 'token.revoked' && e.target.tokenId === pat.id)).toMatchObject({ outcome: 'succeeded' });
    expect(log.find((e) => e.type === 'token.leak_reported' && e.target.tokenId === pat.id)).toMatchObject({
      details: { reportedBy: `leak report by GitHub secret scanning: found at ${url} (content)` },
    });
    expect(JSON.stringify(log)).not.toContain(pat.token);

    // Reported again: still a true positive, nothing more to revoke.
    expect((await githubReport([{ token: pat.token, type: 't', url, source: 'content' }])).body[0].label).toBe('true_positive');
  });

  it('unknown, look-alike and foreign strings are false positives', async () => {
    const pat = await newPat(alice, 'kept');
    const lookalike = pat.token.slice(0, 20) + (pat.token[20] === 'A' ? 'B' : 'A') + pat.token.slice(21);
    const res = await githubReport([{ token: lookalike }, { token: 'ghp_notours' }, { token: 'tsr_' + 'A'.repeat(50) }]);
    expect(res.body.map((v: { label: string }) => v.label)).toEqual(['false_positive', 'false_positive', 'false_positive']);
    expect((await gw.introspect(pat.token)).body.active).toBe(true);
  });

  it('an unsigned, tampered or wrongly keyed report is refused and revokes nothing', async () => {
    const pat = await newPat(alice, 'ci');
    const items = [{ token: pat.token, type: 't', url: 'https://x', source: 'content' }];
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    for (const res of [
      await gw.api('POST', '/api/v1/leaked-tokens/github', { body: items }),
      await githubReport(items, { tamper: true }),
      await githubReport(items, { key: other }),
      await githubReport(items, { keyId: 'gh-key-unknown' }),
    ]) {
      expect(res.status).toBe(401);
      expect(res.body.error).toBe('invalid_signature');
    }
    const bad = await githubReport([{ url: 'no token' }]);
    expect(bad.status).toBe(400);
    expect((await gw.introspect(pat.token)).body.active).toBe(true);
  });

  it('admins pass on reports from elsewhere: PATs and login tokens; others may not', async () => {
    const pat = await newPat(alice, 'script');
    const login = await gw.login('alice', 'alice-password-1');
    expect((await gw.api('POST', '/api/v1/admin/leaked-tokens', { token: alice, body: { tokens: [{ token: pat.token }] } })).status).toBe(403);
    const res = await gw.api('POST', '/api/v1/admin/leaked-tokens', {
      token: admin,
      body: { tokens: [{ token: pat.token, url: 'https://pastebin.example/x', source: 'paste' }, { token: login }] },
    });
    expect(res.status).toBe(200);
    expect(res.body.results).toEqual([
      { token_hash: sha256(pat.token), token_type: 'tessera_pat', label: 'true_positive', revoked_token_id: pat.id },
      { token_hash: sha256(login), token_type: 'tessera_access', label: 'true_positive', revoked_token_id: null },
    ]);
    expect((await gw.introspect(pat.token)).body.active).toBe(false);
    expect((await gw.api('GET', '/api/v1/tokens', { token: login })).status).toBe(401);
    expect((await gw.api('GET', `/api/v1/tokens/${pat.id}`, { token: admin })).body.revoked_by).toBe('leak report by admin admin: found at https://pastebin.example/x (paste)');
  });
});
