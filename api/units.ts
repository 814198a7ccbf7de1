import express from 'express';
import type { DocumentNode, ExecutionResult, GraphQLError } from 'graphql';
import { sql } from 'drizzle-orm';
import { rows, type Database } from '../schema/database.ts';
import type { Viewer } from './auth.ts';
import type { Context } from './graphql/context.ts';
import type { createGraphqlHandler } from './graphql/index.ts';

// `GET /v1/units/{serial}`: a serial's provenance over plain HTTP, for clients (an exchange's checks)
// that want one URL per unit rather than GraphQL. The answer is the `lookup` of the GraphQL API, run
// by the GraphQL server itself (its plugins and resolvers) from one document parsed and validated once,
// so the two cannot drift apart: the JSON is `data.lookup` of the query below. Optional query parameters `numberSpace`
// and `registry` are `lookup`'s own; `Accept-Language: ja` answers in Japanese as GraphQL does.
//
// Answers carry an ETag and Last-Modified from the ledger's version (the last committed batch and the
// last change to a finding): a client that sends the ETag back in If-None-Match gets 304 and no body
// until one of them changes. The ETag names the caller's organization, since a key sees its private rows.

export const UNIT_DOCUMENT = `query Unit($serial: String!, $numberSpace: String, $registry: String) {
  lookup(serial: $serial, numberSpace: $numberSpace, registry: $registry) {
    query message
    readings { registry numberSpace start end }
    blocks {
      id serial blockKey registry { id name } project { key name country { code name } }
      numberSpace serialStart serialEnd quantity vintageYear superseded
      status { code label } statusDate retirementBeneficiary retirementPurpose { code label }
      article6Authorization caDeclaration { code label } caStatus { code label } tokenizationMarker
      events { id kind { code label } occurredOn quantity }
      findings { id kind { code label } title severity { code label } status { code label } tonnesAtRisk }
      sources { id source locator contentHash fetchedAt batchId batchDigest }
      tags { ...unitTag }
    }
    issuances { id serial quantity vintageYear numberSpace serialStart serialEnd project { key name } tags { ...unitTag } }
    reportedBy {
      reportedBy registry key project numberSpace serialStart serialEnd quantity status { code label } statusDate
      vintageYear matchedBy unitsOfRecord projectsOfRecord disagreements
    }
  }
}
fragment unitTag on Tag { code label source { kind registry text url private record { source locator contentHash } } }`;

/** The ledger's version: what changes whenever a lookup's answer may. */
async function ledgerVersion(db: Database): Promise<{ tag: string; modified: Date | null }> {
  const [v] = await rows<{ batch: number | null; finished: Date | string | null; finding: number | null; change: number | null }>(db, sql`select
    (select max(id)::float8 from batches where status = 'committed') as batch,
    (select max(finished_at) from batches where status = 'committed') as finished,
    (select max(id)::float8 from findings) as finding,
    (select max(id)::float8 from finding_status_changes) as change`);
  return { tag: `${v?.batch ?? 0}.${v?.finding ?? 0}.${v?.change ?? 0}`, modified: v?.finished ? new Date(v.finished) : null };
}

/**
 * Whether a conditional request names the current answer (RFC 9110 §13.1): If-None-Match holds its ETag
 * (weak comparison), or, without If-None-Match, If-Modified-Since is no earlier than Last-Modified. An
 * origin server answers the condition whatever Cache-Control the request carries for caches.
 */
export function unchanged(req: express.Request, etag: string, modified: Date | null): boolean {
  const opaque = (tag: string) => tag.trim().replace(/^W\//, '');
  const match = req.get('if-none-match');
  if (match !== undefined) return match.trim() === '*' || match.split(',').some((tag) => opaque(tag) === opaque(etag));
  const since = Date.parse(req.get('if-modified-since') ?? '');
  return modified !== null && Number.isFinite(since) && Math.floor(modified.getTime() / 1000) * 1000 <= since;
}

const one = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

type GraphqlServer = ReturnType<typeof createGraphqlHandler>;

export function unitsRouter(graphql: GraphqlServer): express.Router {
  const router = express.Router();
  // Parsed and validated once, by the GraphQL server's own plugins (its limits among them).
  let document: DocumentNode | undefined;
  router.get('/units/:serial', async (req, res, next) => {
    try {
      const request = { headers: new Headers(req.get('accept-language') ? { 'accept-language': req.get('accept-language')! } : {}) };
      const { parse, validate, contextFactory, execute, schema } = graphql.getEnveloped({ request, res } as never);
      if (!document) {
        const parsed = parse(UNIT_DOCUMENT);
        const invalid = validate(schema, parsed);
        if (invalid.length > 0) throw new Error(`GET /v1/units: its document does not fit the schema: ${invalid.map((e: GraphQLError) => e.message).join('; ')}`);
        document = parsed;
      }
      const context = await contextFactory() as unknown as Context;
      const viewer = res.locals.viewer as Viewer;
      const version = await ledgerVersion(context.db);
      const etag = `W/"${version.tag}.${context.locale}.${viewer.organizationId ?? 'public'}"`;
      res.set({ etag, vary: 'Accept-Language, Authorization, X-Api-Key', 'cache-control': 'no-cache' });
      if (version.modified) res.set('last-modified', version.modified.toUTCString());
      if (unchanged(req, etag, version.modified)) return void res.status(304).end();

      const variableValues = { serial: req.params.serial, numberSpace: one(req.query.numberSpace), registry: one(req.query.registry) };
      const result = await execute({ schema, document, variableValues, contextValue: context }) as ExecutionResult<{ lookup: unknown }>;
      if (result.errors?.length) {
        const coded = result.errors.every((e: GraphQLError) => typeof e.extensions?.code === 'string' && e.extensions.code !== 'INTERNAL_SERVER_ERROR');
        if (!coded) return next(result.errors[0]!.originalError ?? result.errors[0]);
        return void res.status(400).json({ errors: result.errors.map((e) => e.toJSON()) });
      }
      res.json(result.data!.lookup);
    } catch (error) {
      next(error);
    }
  });
  return router;
}
