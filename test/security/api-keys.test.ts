import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey, revokeApiKey } from '../../api/auth.ts';
import { DEFAULT_API_LIMITS } from '../../schema/config.ts';
import { organizations } from '../../schema/db/index.ts';
import { openDatabase, type DatabaseHandle } from '../../schema/database.ts';
import { startApi } from '../helpers/api.ts';
import { openTestDatabase, type TestDatabase } from '../helpers/database.ts';

// SECURITY.md, "Keys": a revoked key is refused from the next request on, by every instance sharing the
// database (on a server, two instances here are two connection pools, as two processes would be); a
// token that is not a verified key counts against its caller's address, never against the bucket of
// the key whose prefix it borrows.

describe('API keys', () => {
  let t: TestDatabase;
  let other: DatabaseHandle;
  let key: { id: number; key: string };

  beforeAll(async () => {
    t = await openTestDatabase();
    // A second instance: its own connections to the same server database (PGlite: the same database).
    other = t.options.url ? await openDatabase(t.options) : t.handle;
    const [org] = await t.handle.db.insert(organizations).values({ slug: 'exchange', name: 'An exchange' }).returning();
    key = await createApiKey(t.handle.db, { name: 'exchange reader', role: 'reader', organizationId: org!.id });
  });
  afterAll(async () => {
    if (other !== t.handle) await other?.close();
    await t?.close();
  });

  it('when a key is revoked from the command line, then both running instances refuse it at the next request', async () => {
    const first = await startApi(t.handle);
    const second = await startApi(other);
    try {
      const whoAmI = '{ viewer { role organization { slug } } }';
      for (const api of [first, second]) {
        for (let i = 0; i < 3; i += 1) expect((await api.gql(whoAmI, {}, { key: key.key })).data!.viewer).toEqual({ role: 'reader', organization: { slug: 'exchange' } });
      }
      expect(await revokeApiKey(t.handle.db, key.id)).toBe(true);
      for (const api of [second, first]) {
        const refused = await api.gql(whoAmI, {}, { key: key.key });
        expect(refused.status).toBe(401);
        expect(refused.errors![0]).toMatchObject({ message: 'the API key is unknown or revoked', extensions: { code: 'UNAUTHENTICATED' } });
        // Exports check the same key the same way.
        expect((await fetch(`${api.url}/export/cadt-v2.json`, { headers: { authorization: `Bearer ${key.key}` } })).status).toBe(401);
      }
    } finally {
      await first.close();
      await second.close();
    }
  });

  it('when someone sends twenty tokens made of a real key\'s prefix, then they are refused and the real key is not limited', async () => {
    const victim = await createApiKey(t.handle.db, { name: 'victim', role: 'reader', organizationId: null });
    const api = await startApi(t.handle, { ...DEFAULT_API_LIMITS, rateLimitPerMinute: 10 });
    try {
      const prefix = victim.key.split('_').slice(0, 2).join('_');
      const forged = `${prefix}_${'A'.repeat(43)}`;
      const statuses = [];
      for (let i = 0; i < 20; i += 1) statuses.push((await api.gql('{ viewer { role } }', {}, { key: forged })).status);
      // The forged tokens are refused, then limited on their address's own bucket.
      expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
      expect(statuses.slice(10)).toEqual(Array(10).fill(429));
      const real = await api.gql('{ viewer { role } }', {}, { key: victim.key });
      expect(real.status).toBe(200);
      expect(real.data!.viewer.role).toBe('reader');
    } finally {
      await api.close();
    }
  });
});
