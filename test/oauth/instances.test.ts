/**
 * Two gateway instances on one Redis, as behind a load balancer: state made on one is seen by
 * the other, and a signing-key rotation on one reaches the other at once (pushed over Redis
 * pub/sub; src/oauth/provider.ts also polls every 30 s in case a push was missed).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, startTestGateway, type TestGateway } from '../helpers/gateway.js';

const kids = async (gw: TestGateway): Promise<string[]> => ((await (await fetch(`${gw.url}/oauth2/jwks`)).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);

describe('several gateway instances on one Redis', () => {
  let one: TestGateway;
  let two: TestGateway;

  beforeAll(async () => {
    one = await startTestGateway();
    two = await startTestGateway({ prefix: one.prefix });
  });
  afterAll(async () => {
    await two?.close();
    await one?.stop();
  });

  it('share users, tokens and signing keys', async () => {
    const admin = await one.login('admin', ADMIN_PASSWORD);
    const pat = (await one.api('POST', '/api/v1/tokens', { token: admin, body: { name: 'made on one' } })).body.token;
    expect((await two.introspect(pat)).body).toMatchObject({ active: true, token_name: 'made on one' });
    expect(await kids(two)).toEqual(await kids(one));
  });

  it('a key rotated on one instance reaches the other', async () => {
    const admin = await one.login('admin', ADMIN_PASSWORD);
    const rotated = await one.api('POST', '/api/v1/admin/keys/rotate', { token: admin });
    expect(await kids(one)).toContain(rotated.body.signing_kid);
    // Pushed over pub/sub: no poll needed.
    await expect.poll(() => kids(two), { timeout: 15_000 }).toContain(rotated.body.signing_kid);
    expect(await kids(two)).toEqual(await kids(one));
    expect(await two.oidc.reloadIfChanged()).toBe(false);
  });
});
