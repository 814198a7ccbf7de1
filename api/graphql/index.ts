import { readFileSync } from 'node:fs';
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import { createFetch } from '@whatwg-node/fetch';
import type { Response } from 'express';
import { getOperationAST, GraphQLError, GraphQLScalarType, Kind, type DocumentNode, type ValidationContext } from 'graphql';
import { createSchema, createYoga } from 'graphql-yoga';
import type { ApiLimits } from '../../schema/config.ts';
import type { DatabaseHandle } from '../../schema/database.ts';
import { log } from '../../schema/log.ts';
import { writerOf, type Viewer } from '../auth.ts';
import { BodyTooLarge, maxUploadBody } from '../body.ts';
import { graphqlOperations } from '../metrics.ts';
import { adminResolvers } from './admin.ts';
import { article6Resolvers } from './article6.ts';
import { changeResolvers } from './changes.ts';
import { createContext, type Context } from './context.ts';
import { createLoaders } from './loaders.ts';
import { findingResolvers } from './findings.ts';
import { freshnessResolvers } from './freshness.ts';
import { useInputLimits } from './limits.ts';
import { lookupResolvers } from './lookup.ts';
import { mirrorResolvers } from './mirrors.ts';
import { projectResolvers } from './projects.ts';
import { reconciliationResolvers } from './reconciliation.ts';
import { tagResolvers } from './tags.ts';
import { trendResolvers } from './trends.ts';
import { MAX_UPLOAD_FILES, uploadResolvers } from './uploads.ts';
import { webhookResolvers } from './webhooks.ts';

// The GraphQL endpoint (graphql-yoga): the SDL of each area beside its resolvers (api/graphql/<area>.graphql,
// the root types in schema.graphql), and the limits
// that keep one request from taking the server down: depth, cost, aliases, tokens, upload sizes.
// Errors a resolver raises on purpose (GraphQLError) reach the caller; anything else is logged and
// answered "Unexpected error.", so no stack, SQL or private value leaks.

const SDL_FILES = ['schema', 'admin', 'projects', 'lookup', 'mirrors', 'trends', 'findings', 'article6', 'uploads', 'reconciliation', 'freshness', 'changes', 'webhooks', 'tags'];
export const typeDefs = SDL_FILES.map((name) => readFileSync(new URL(`./${name}.graphql`, import.meta.url), 'utf8'));

/** Limits on one operation. An honest dashboard query stays well inside them. */
export const OPERATION_LIMITS = { maxDepth: 10, maxCost: 150_000, maxAliases: 15, maxTokens: 4_000, maxDirectives: 20 };

// By name, not instanceof: the limits plugin and the server may load graphql's CommonJS build and this
// module its ES build, and the two builds' classes differ.
const isGraphqlError = (error: unknown): error is GraphQLError => error instanceof Error && error.name === 'GraphQLError';

const DateScalar = new GraphQLScalarType({
  name: 'Date',
  serialize: (value) => (value instanceof Date ? value.toISOString().slice(0, 10) : String(value)),
  parseValue(value) {
    if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value)) throw new GraphQLError('Date: expected YYYY-MM-DD');
    return value;
  },
  parseLiteral(ast) {
    if (ast.kind !== Kind.STRING || !/^\d{4}-\d{2}-\d{2}$/.test(ast.value)) throw new GraphQLError('Date: expected YYYY-MM-DD');
    return ast.value;
  },
});

const DateTimeScalar = new GraphQLScalarType({
  name: 'DateTime',
  serialize: (value) => (value instanceof Date ? value : new Date(String(value))).toISOString(),
});

const JsonScalar = new GraphQLScalarType({ name: 'JSON', serialize: (value) => value });

const resolvers = [
  { Date: DateScalar, DateTime: DateTimeScalar, JSON: JsonScalar },
  adminResolvers, projectResolvers, lookupResolvers, mirrorResolvers, trendResolvers, findingResolvers, article6Resolvers, uploadResolvers, reconciliationResolvers, freshnessResolvers,
  changeResolvers, webhookResolvers, tagResolvers,
];

export const schema = createSchema<Context>({ typeDefs, resolvers: resolvers as never });

/**
 * graphql-armor's refusals, named: which limit the operation passed, with a code clients can branch on.
 * The token limit is enforced while parsing (no validation context: the refusal is thrown); the others
 * while validating (reported on the context).
 */
function armorRefusal(limit: string) {
  return {
    propagateOnRejection: false,
    onReject: [(context: ValidationContext | null, error: GraphQLError) => {
      const refusal = new GraphQLError(`${limit}: ${error.message.replace(/^Syntax Error: /, '')}`, { extensions: { code: 'LIMIT_EXCEEDED', limit } });
      if (!context) throw refusal;
      context.reportError(refusal);
    }],
  };
}

/** What the GraphQL server itself reports, in the one logger; an upload refused at the body limit is no error of ours. */
function yogaLog(level: 'warn' | 'error') {
  return (...args: unknown[]) => {
    const err = args.find((a) => a instanceof Error);
    if (err instanceof BodyTooLarge) return;
    log[level]({ ...(err ? { err } : {}), detail: args.filter((a) => a !== err).map((a) => (typeof a === 'string' ? a : JSON.stringify(a))) }, 'GraphQL server');
  };
}

/** An operation's name for metrics: the one it was asked by, else the name written in the document. */
function operationName(document: DocumentNode, asked: string | null | undefined): string {
  return (asked ?? getOperationAST(document, asked)?.name?.value ?? 'anonymous').slice(0, 64);
}

export function createGraphqlHandler(handle: DatabaseHandle, limits: ApiLimits) {
  return createYoga({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    graphiql: { title: 'Tally GraphQL API', defaultQuery: '{\n  registries { id name projectCount }\n}\n' },
    renderGraphiQL,
    logging: { debug: () => undefined, info: () => undefined, warn: yogaLog('warn'), error: yogaLog('error') },
    // The body as a whole is bounded before it gets here (api/body.ts), with a message of its own.
    fetchAPI: createFetch({ formDataLimits: { fileSize: maxUploadBody(limits.maxUploadBytes), files: MAX_UPLOAD_FILES, fieldSize: 1024 * 1024, fields: 20 } }),
    maskedErrors: {
      maskError(error, message) {
        const original = (error as GraphQLError).originalError;
        if (isGraphqlError(error) && (!original || isGraphqlError(original))) return error;
        // An upload stopped at the body limit: already answered with 413 (api/body.ts).
        const cause = original ?? error;
        if (cause instanceof BodyTooLarge) return new GraphQLError(cause.message, { extensions: { code: 'PAYLOAD_TOO_LARGE' } });
        log.error({ err: original ?? error }, 'unexpected error in a GraphQL request');
        return new GraphQLError(message, { extensions: { code: 'INTERNAL_SERVER_ERROR' } });
      },
    },
    plugins: [
      EnvelopArmorPlugin({
        maxDepth: { n: OPERATION_LIMITS.maxDepth, ignoreIntrospection: true, ...armorRefusal('maxDepth') },
        costLimit: { maxCost: OPERATION_LIMITS.maxCost, ignoreIntrospection: true, ...armorRefusal('maxCost') },
        maxAliases: { n: OPERATION_LIMITS.maxAliases, ...armorRefusal('maxAliases') },
        maxTokens: { n: OPERATION_LIMITS.maxTokens, ...armorRefusal('maxTokens') },
        maxDirectives: { n: OPERATION_LIMITS.maxDirectives, ...armorRefusal('maxDirectives') },
        blockFieldSuggestion: { enabled: false },
      }),
      useInputLimits(),
      {
        onExecute({ args }: { args: { document: DocumentNode; operationName?: string | null; contextValue: unknown } }) {
          const operation = operationName(args.document, args.operationName);
          // A mutation reads and writes on the primary; once done, the caller's next reads wait for a
          // replica that has replayed it.
          const context = args.contextValue as Context;
          const mutation = getOperationAST(args.document, args.operationName)?.operation === 'mutation';
          if (mutation) Object.assign(context, { db: context.primary, loaders: createLoaders(context.primary, context.viewer) });
          return {
            async onExecuteDone({ result }: { result: unknown }) {
              const failed = typeof result === 'object' && result !== null && 'errors' in result && Array.isArray(result.errors) && result.errors.length > 0;
              graphqlOperations.inc({ operation, outcome: failed ? 'error' : 'ok' });
              const writer = writerOf(context.viewer);
              if (mutation && writer) await handle.wrote(writer);
            },
          };
        },
      },
    ],
    // The caller was verified before the request reached GraphQL (api/app.ts). Its reads run with its
    // statement timeout; an upload writes through the database without one (its size is what bounds it).
    // Queries read from the replica when there is one (schema/database.ts `forReads`).
    async context(initial): Promise<Context> {
      // Express hands yoga its response object beside the request.
      const { request, res } = initial as typeof initial & { res: Response };
      const viewer = res.locals.viewer as Viewer;
      const timeout = viewer.apiKeyId === null ? limits.statementTimeoutMs.anonymous : limits.statementTimeoutMs.key;
      const reads = await handle.forReads(timeout, writerOf(viewer));
      return createContext({ reads, primary: handle.withStatementTimeout(timeout), writer: handle.db }, viewer, request.headers.get('accept-language'));
    },
  });
}
