/**
 * Built-in users with scrypt password hashes in the store. Unknown users cost one scrypt of a
 * dummy hash, so the answer time does not tell whether an account exists.
 */
import type { Store } from '../../store/store.js';
import { dummyHash, verifyPassword } from '../passwords.js';
import type { Identity, PasswordSource } from '../source.js';

/** The part of the store this uses: local accounts, looked up by name. */
export type LocalSourceStore = Pick<Store, 'findUserByName'>;

export class LocalSource implements PasswordSource {
  readonly id = 'local';
  readonly displayName = 'Built-in account';
  private dummy: Promise<string> | undefined;

  constructor(
    private readonly store: LocalSourceStore,
    private readonly scryptCost: number,
  ) {}

  async authenticate(username: string, password: string): Promise<Identity | null> {
    const user = await this.store.findUserByName(username);
    if (!user || user.source !== 'local' || !user.passwordHash) {
      this.dummy ??= dummyHash(this.scryptCost);
      await verifyPassword(password, await this.dummy);
      return null;
    }
    if (!(await verifyPassword(password, user.passwordHash))) return null;
    return { source: 'local', username: user.username, displayName: user.displayName, email: user.email, groups: user.groups };
  }
}
