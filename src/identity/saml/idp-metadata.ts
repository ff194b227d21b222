/**
 * The IdP's metadata: from the config (inline or a file) or fetched from `idpMetadataUrl`. A
 * fetched copy is kept in the store (a setting shared by every gateway instance), so a restart
 * during an IdP outage still has the certificate, and refreshed once older than
 * `idpMetadataMaxAge` so a certificate rotation at the IdP is picked up without a restart.
 *
 * Whatever its origin, metadata is only accepted with a signing certificate: samlify verifies a
 * signature against a certificate inside the message when the metadata has none, which would let
 * anyone sign their own assertions.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import samlify from 'samlify';
import type { Clock } from '../../clock.js';
import type { Store } from '../../store/store.js';
import type { SamlSourceConfig } from './config.js';
import { rejectDtd } from './xml-schema.js';
import type { Logger } from '../../observability/logger.js';

/** The part of the store this uses: the last good IdP metadata, shared by every instance. */
export type IdpMetadataStore = Pick<Store, 'getSetting' | 'setSetting'>;

export type IdentityProvider = ReturnType<typeof samlify.IdentityProvider>;

const MAX_METADATA_BYTES = 1024 * 1024;

interface CachedMetadata {
  url: string;
  fetchedAt: number;
  xml: string;
}

/** The IdP's signing certificates (base64 DER, as in the metadata). */
function signingCertificates(idp: IdentityProvider): string[] {
  const found = idp.entityMeta.getX509Certificate('signing') as string | string[] | null;
  return ([] as string[]).concat(found ?? []).map((c) => c.replace(/\s+/g, ''));
}

/** Builds the samlify IdP from metadata XML, or throws saying what the metadata lacks. */
export function identityProviderFrom(xml: string, options: { isAssertionEncrypted?: boolean } = {}): IdentityProvider {
  rejectDtd(xml);
  const idp = samlify.IdentityProvider({ ...options, metadata: xml });
  if (!idp.entityMeta.getEntityID()) throw new Error('the metadata has no entityID');
  // samlify names bindings by their short name here ('redirect'), by URN elsewhere.
  const sso = idp.entityMeta.getSingleSignOnService('redirect');
  if (typeof sso !== 'string' || !/^https?:\/\//i.test(sso)) throw new Error('the metadata has no SingleSignOnService with the HTTP-Redirect binding');
  const certs = signingCertificates(idp);
  if (certs.length === 0) throw new Error('the metadata has no signing certificate (KeyDescriptor use="signing")');
  for (const cert of certs) {
    try {
      new X509Certificate(Buffer.from(cert, 'base64'));
    } catch {
      throw new Error('a signing certificate in the metadata cannot be read');
    }
  }
  return idp;
}

function checked(xml: string): string {
  identityProviderFrom(xml);
  return xml;
}

export class IdpMetadataSource {
  private readonly settingName: string;
  private fetchedAt = 0;
  private refreshing: Promise<unknown> | undefined;

  constructor(
    private readonly config: SamlSourceConfig,
    private readonly store: IdpMetadataStore,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {
    this.settingName = `saml:${config.id}:idp-metadata`;
  }

  /**
   * The metadata XML now: configured, fetched, or the stored copy when the fetch fails. Throws
   * when there is none, or it lacks what a sign-in needs.
   */
  async load(): Promise<string> {
    const { idpMetadata, idpMetadataFile, idpMetadataUrl } = this.config;
    if (idpMetadata) return checked(idpMetadata);
    if (idpMetadataFile) {
      let xml: string;
      try {
        xml = readFileSync(idpMetadataFile, 'utf8');
      } catch (err) {
        throw new Error(`cannot read idpMetadataFile ${idpMetadataFile}: ${(err as Error).message}`);
      }
      return checked(xml);
    }
    try {
      return await this.fetchAndStore(idpMetadataUrl!);
    } catch (err) {
      const cached = await this.cached(idpMetadataUrl!);
      if (!cached) throw new Error(`cannot fetch idpMetadataUrl and no copy is stored: ${(err as Error).message}`);
      this.log.warn(`cannot fetch idpMetadataUrl (${(err as Error).message}); using the copy stored ${new Date(cached.fetchedAt).toISOString()}`);
      this.fetchedAt = cached.fetchedAt;
      return checked(cached.xml);
    }
  }

  /** Whether a fetched copy is due for a refresh. Configured metadata never is. */
  stale(): boolean {
    return Boolean(this.config.idpMetadataUrl) && this.clock() - this.fetchedAt > this.config.idpMetadataMaxAge;
  }

  /** Fetches again in the background (once at a time); `apply` gets the new metadata on success. */
  refresh(apply: (xml: string) => void): void {
    if (this.refreshing || !this.config.idpMetadataUrl) return;
    // Failed or not, wait a max-age before the next try rather than fetching at every sign-in.
    this.fetchedAt = this.clock();
    this.refreshing = this.fetchAndStore(this.config.idpMetadataUrl)
      .then(apply, (err: Error) => this.log.warn(`refreshing idpMetadataUrl failed (${err.message}); keeping the metadata in use`))
      .finally(() => (this.refreshing = undefined));
  }

  private async fetchAndStore(url: string): Promise<string> {
    const res = await fetch(url, { signal: AbortSignal.timeout(this.config.idpMetadataTimeout), headers: { accept: 'application/samlmetadata+xml, application/xml, text/xml' } });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    // A redirect from https to http would hand the certificate to whoever is on the path.
    if (new URL(res.url).protocol !== new URL(url).protocol) throw new Error(`redirected to ${new URL(res.url).protocol} URL`);
    const declared = Number(res.headers.get('content-length') ?? 0);
    if (declared > MAX_METADATA_BYTES) throw new Error('metadata larger than 1 MiB');
    const xml = await res.text();
    if (Buffer.byteLength(xml) > MAX_METADATA_BYTES) throw new Error('metadata larger than 1 MiB');
    checked(xml);
    const now = this.clock();
    await this.store.setSetting(this.settingName, JSON.stringify({ url, fetchedAt: now, xml } satisfies CachedMetadata));
    this.fetchedAt = now;
    return xml;
  }

  private async cached(url: string): Promise<CachedMetadata | null> {
    const raw = await this.store.getSetting(this.settingName).catch(() => null);
    if (!raw) return null;
    const cached = JSON.parse(raw) as CachedMetadata;
    // A copy fetched from another URL (the config changed) is not this IdP's.
    return cached.url === url ? cached : null;
  }
}
