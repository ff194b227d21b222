/**
 * Token ids by unique prefix, as git takes commit hashes: `tessera token revoke KAFK2mIs5l4En`.
 * A full id (22 base62 characters) goes to the gateway as it is; anything shorter is matched
 * against the tokens the caller may see (every user's for an admin, else their own, revoked and
 * expired included) and must name exactly one. The gateway still decides what the caller may do
 * with it.
 */
import type { CliContext } from './context.js';
import { ApiError, CliError } from './errors.js';

const FULL_ID = /^[0-9A-Za-z]{22}$/;
const PREFIX = /^[0-9A-Za-z]{1,21}$/;

async function visibleTokenIds(ctx: CliContext): Promise<string[]> {
  // Every page: the gateway answers both listings by page.
  const list = async (all: boolean) => {
    const ids: string[] = [];
    let cursor: string | undefined;
    do {
      const query = { include: 'revoked,expired', all: all ? 'true' : undefined, limit: '1000', cursor };
      const page = await ctx.client().request<{ tokens: { id: string }[]; next?: string }>('GET', '/api/v1/tokens', { query });
      ids.push(...page.tokens.map((t) => t.id));
      cursor = page.next;
    } while (cursor);
    return ids;
  };
  try {
    return await list(true);
  } catch (err) {
    // Not an admin (or a scoped token): its own tokens are all it can name.
    if (err instanceof ApiError && err.status === 403) return list(false);
    throw err;
  }
}

/** The full ids for what was typed, in order; a prefix that matches none or several is an error. */
export async function resolveTokenIds(ctx: CliContext, typed: string[]): Promise<string[]> {
  if (typed.every((id) => FULL_ID.test(id) || !PREFIX.test(id))) return typed;
  const known = await visibleTokenIds(ctx);
  return typed.map((id) => {
    if (FULL_ID.test(id) || !PREFIX.test(id)) return id;
    const matches = known.filter((k) => k.startsWith(id));
    if (matches.length === 1) return matches[0]!;
    if (!matches.length) throw new CliError(`no token id starts with ${id}`);
    const shown = matches.slice(0, 5).join(', ') + (matches.length > 5 ? `, … (${matches.length} in all)` : '');
    throw new CliError(`token id prefix ${id} is ambiguous: it matches ${shown}; type more of it`);
  });
}
