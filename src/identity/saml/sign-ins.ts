/** SAML's pending sign-ins are the generic redirect ones (../redirect-sign-ins.ts). */
export { RedirectSignIns as SamlSignIns, type PendingSignIn, type SignInHandoff } from '../redirect-sign-ins.js';
