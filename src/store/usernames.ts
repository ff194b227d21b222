/**
 * One spelling per username. Directories match names case- and width-insensitively (`Admin`,
 * `ADMIN` and the full-width `ａｄｍｉｎ` are one LDAP entry), so Tessera must too: two accounts
 * whose names differ only that way would let one person pass for another on every page and log
 * that shows the name. The store indexes users under this key, and login throttling counts
 * under it, so no spelling gets an allowance of its own.
 */
export function usernameKey(username: string): string {
  return username.normalize('NFKC').trim().toLowerCase();
}
