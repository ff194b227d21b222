/**
 * The rules of ending every credential, at the service seam: a request that passed its bearer
 * check just before a revoke-all cannot leave a token behind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidToken } from '../../src/errors.js';
import { ADMIN_PASSWORD, startTestGateway, type TestGateway } from '../helpers/gateway.js';

describe('revoke-all and requests in flight', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ store: 'memory' });
  });
  afterAll(() => gw?.stop());

  it('a token minted with a login that a revoke-all voided meanwhile is refused and revoked', async () => {
    const { bearer, pats, revocation, store } = gw.services;
    const admin = await bearer.authenticate(await gw.login('admin', ADMIN_PASSWORD), '127.0.0.1');
    await gw.api('POST', '/api/v1/users', { token: await gw.login('admin', ADMIN_PASSWORD), body: { username: 'sam', password: 'sam-password' } });
    const sam = await bearer.authenticate(await gw.login('sam', 'sam-password'), '127.0.0.1');
    expect(sam).not.toBeNull();
    // The bearer check passed; now the revoke lands before the create does its write.
    gw.clock.advance(1);
    expect(await revocation.revokeUser(admin!, 'sam')).toMatchObject({ sessions: 1 });
    await expect(pats.create(sam!, { name: 'sneaky' })).rejects.toBeInstanceOf(InvalidToken);
    const left = await store.listTokens(sam!.user.id, gw.clock.now);
    expect(left).toHaveLength(1);
    expect(left[0]).toMatchObject({ name: 'sneaky', revokedBy: 'system:revoke-all' });
    // A login made after the revoke creates tokens as usual.
    const fresh = await bearer.authenticate(await gw.login('sam', 'sam-password'), '127.0.0.1');
    await expect(pats.create(fresh!, { name: 'fine' })).resolves.toMatchObject({ record: { name: 'fine' } });
  });

  it('only admins end other users\' credentials, and only with an unscoped credential', async () => {
    const { bearer, revocation } = gw.services;
    await gw.api('POST', '/api/v1/users', { token: await gw.login('admin', ADMIN_PASSWORD), body: { username: 'tess', password: 'tess-password' } });
    const tess = await bearer.authenticate(await gw.login('tess', 'tess-password'), '127.0.0.1');
    await expect(revocation.revokeUser(tess!, 'admin')).rejects.toMatchObject({ status: 403 });
    await expect(revocation.revokeEverything(tess!)).rejects.toMatchObject({ status: 403 });
    await expect(revocation.revokeUser({ ...tess!, scopes: ['tokens:read'] }, 'tess')).rejects.toMatchObject({ status: 403 });
  });
});
