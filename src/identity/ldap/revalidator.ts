/**
 * LDAP's re-validation is the generic one (../revalidator.ts); these names stay for the code and
 * tests that knew it as LDAP's.
 */
export { SourceRevalidator as LdapRevalidator, type SourceLookup as DirectoryLookup, type RevalidationRound } from '../revalidator.js';
