/**
 * "Sign in with …" buttons, one per redirect source of any kind, built in one place for the web
 * sign-in page and the OpenID Provider's login interaction.
 */
import type { RedirectSource } from '../../identity/source.js';

/** Where the sign-in lands: a same-origin path (web) or an OIDC login interaction. */
export type SignInTarget = { returnTo: string } | { interaction: string };

export function signInButtons(sources: readonly RedirectSource[], target: SignInTarget): { displayName: string; href: string }[] {
  const query = 'interaction' in target ? `interaction=${encodeURIComponent(target.interaction)}` : `return=${encodeURIComponent(target.returnTo)}`;
  return sources.map((s) => ({ displayName: s.displayName, href: `${s.startPath}?${query}` }));
}
