import { randomBytes, timingSafeEqual } from 'node:crypto';
import { and, eq, isNull } from 'drizzle-orm';
import { apiKeys } from '../schema/db/index.ts';
import type { Database } from '../schema/database.ts';
import { sha256 } from '../schema/hash.ts';

// API keys (DESIGN §3): `tly_<prefix>_<secret>`. Only the SHA-256 of the whole key is stored; the prefix
// finds the row without revealing anything. Roles: admin (everything), publisher (writes for one
// organization), reader (reads, with its organization's private records when it has one). A caller
// without a key reads public data.

export type Role = 'anonymous' | 'reader' | 'publisher' | 'admin';

export type Viewer = {
  role: Role;
  /** Whose private records this caller sees (and, for a publisher, writes for). */
  organizationId: number | null;
  apiKeyId: number | null;
};

export const ANONYMOUS: Viewer = { role: 'anonymous', organizationId: null, apiKeyId: null };

/**
 * Who a caller writes as, for read-your-writes (a replica's reads wait for its last write): its
 * organization, so every key of it reads what any of them wrote, else its key; null for anonymous.
 */
export const writerOf = (viewer: Viewer): string | null =>
  viewer.organizationId !== null ? `org:${viewer.organizationId}` : viewer.apiKeyId !== null ? `key:${viewer.apiKeyId}` : null;

/** A request that names a key Tally does not accept: answered 401, never served as anonymous. */
export class InvalidApiKey extends Error {}

const KEY_PATTERN = /^(tly_[0-9a-f]{12})_[A-Za-z0-9_-]{43}$/;

export type NewKey = { id: number; key: string };

/** Creates a key and returns it once; the database keeps its hash. */
export async function createApiKey(db: Database, input: { name: string; role: Exclude<Role, 'anonymous'>; organizationId: number | null }): Promise<NewKey> {
  const prefix = `tly_${randomBytes(6).toString('hex')}`;
  const key = `${prefix}_${randomBytes(32).toString('base64url')}`;
  const [row] = await db.insert(apiKeys).values({
    name: input.name, role: input.role, organizationId: input.organizationId, keyPrefix: prefix, keyHash: sha256(key),
  }).returning({ id: apiKeys.id });
  return { id: row!.id, key };
}

/** Revokes a key: from the next request on, no instance sharing the database accepts it. */
export async function revokeApiKey(db: Database, id: number): Promise<boolean> {
  const revoked = await db.update(apiKeys).set({ revokedAt: new Date() })
    .where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt))).returning({ id: apiKeys.id });
  return revoked.length > 0;
}

/**
 * The viewer a bearer token stands for. Throws InvalidApiKey for a malformed, unknown or revoked key.
 * The key is checked in the database on every request (one probe of a unique index), so a revocation
 * holds at once in every instance; nothing is remembered between requests.
 */
export async function authenticate(db: Database, token: string | undefined): Promise<Viewer> {
  if (!token) return ANONYMOUS;
  const match = KEY_PATTERN.exec(token);
  if (!match) throw new InvalidApiKey('the API key is malformed: expected tly_<12 hex>_<43 characters>');
  const [row] = await db.select().from(apiKeys).where(eq(apiKeys.keyPrefix, match[1]!));
  const given = Buffer.from(sha256(token), 'hex');
  if (!row || row.revokedAt || !timingSafeEqual(given, Buffer.from(row.keyHash, 'hex'))) {
    throw new InvalidApiKey('the API key is unknown or revoked');
  }
  return { role: row.role, organizationId: row.organizationId, apiKeyId: row.id };
}

/** The token of a request: `Authorization: Bearer <key>` or `X-Api-Key: <key>`. */
export function tokenOf(headers: { authorization?: string | null; apiKey?: string | null }): string | undefined {
  const bearer = headers.authorization?.match(/^Bearer\s+(\S+)$/i)?.[1];
  return bearer ?? (headers.apiKey || undefined);
}
