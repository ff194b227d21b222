/**
 * Two gateway instances on one Redis, as behind a load balancer: state made on one is seen by
 * the other, and a signing-key rotation on one reaches the other (src/oauth/provider.ts polls
 * every 30 s; the test calls the same check directly instead of waiting).
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
    expect(await kids(two)).not.toContain(rotated.body.signing_kid);
    expect(await two.oidc.reloadIfChanged()).toBe(true);
    expect(await kids(two)).toEqual(await kids(one));
    expect(await two.oidc.reloadIfChanged()).toBe(false);
  });
});
