import { readFileSync } from 'node:fs';
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import { createFetch } from '@whatwg-node/fetch';
import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';
import { createSchema, createYoga } from 'graphql-yoga';
import type { Database } from '../../schema/database.ts';
import { log } from '../../schema/log.ts';
import { authenticate, InvalidApiKey, tokenOf } from '../auth.ts';
import { graphqlOperations } from '../metrics.ts';
import { adminResolvers } from './admin.ts';
import { article6Resolvers } from './article6.ts';
import { createContext, type Context } from './context.ts';
import { findingResolvers } from './findings.ts';
import { lookupResolvers } from './lookup.ts';
import { projectResolvers } from './projects.ts';
import { trendResolvers } from './trends.ts';
import { MAX_UPLOAD_FILES, uploadResolvers } from './uploads.ts';

// The GraphQL endpoint (graphql-yoga): the SDL in api/schema.graphql, resolvers by area, and the limits
// that keep one request from taking the server down: depth, cost, aliases, tokens, upload sizes.
// Errors a resolver raises on purpose (GraphQLError) reach the caller; anything else is logged and
// answered "Unexpected error.", so no stack, SQL or private value leaks.

export const typeDefs = readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8');

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
  adminResolvers, projectResolvers, lookupResolvers, trendResolvers, findingResolvers, article6Resolvers, uploadResolvers,
];

export const schema = createSchema<Context>({ typeDefs, resolvers: resolvers as never });

export function createGraphqlHandler(db: Database, options: { maxUploadBytes: number }) {
  return createYoga({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    graphiql: { title: 'Tally GraphQL API', defaultQuery: '{\n  registries { id name projectCount }\n}\n' },
    renderGraphiQL,
    logging: { debug: () => undefined, info: () => undefined, warn: (...a) => log.warn(a), error: (...a) => log.error(a) },
    fetchAPI: createFetch({ formDataLimits: { fileSize: options.maxUploadBytes, files: MAX_UPLOAD_FILES, fieldSize: 1024 * 1024, fields: 20 } }),
    maskedErrors: {
      maskError(error, message) {
        const original = (error as GraphQLError).originalError;
        if (isGraphqlError(error) && (!original || isGraphqlError(original))) return error;
        log.error({ err: original ?? error }, 'unexpected error in a GraphQL request');
        return new GraphQLError(message, { extensions: { code: 'INTERNAL_SERVER_ERROR' } });
      },
    },
    plugins: [
      EnvelopArmorPlugin({
        maxDepth: { n: OPERATION_LIMITS.maxDepth, ignoreIntrospection: true },
        costLimit: { maxCost: OPERATION_LIMITS.maxCost, ignoreIntrospection: true },
        maxAliases: { n: OPERATION_LIMITS.maxAliases },
        maxTokens: { n: OPERATION_LIMITS.maxTokens },
        maxDirectives: { n: OPERATION_LIMITS.maxDirectives },
        blockFieldSuggestion: { enabled: false },
      }),
      {
        onExecute({ args }: { args: { operationName?: string | null } }) {
          const operation = (args.operationName ?? 'anonymous').slice(0, 64);
          return {
            onExecuteDone({ result }: { result: unknown }) {
              const failed = typeof result === 'object' && result !== null && 'errors' in result && Array.isArray(result.errors) && result.errors.length > 0;
              graphqlOperations.inc({ operation, outcome: failed ? 'error' : 'ok' });
            },
          };
        },
      },
    ],
    async context({ request }): Promise<Context> {
      try {
        const viewer = await authenticate(db, tokenOf({ authorization: request.headers.get('authorization'), apiKey: request.headers.get('x-api-key') }));
        return createContext(db, viewer, request.headers.get('accept-language'));
      } catch (error) {
        if (error instanceof InvalidApiKey) throw new GraphQLError(error.message, { extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } });
        throw error;
      }
    },
  });
}
