import { createRequire } from 'node:module';
import { GraphQLError, type DocumentNode, type GraphQLInputType, type GraphQLSchema } from 'graphql';

// The schema the server executes is built by graphql-yoga with graphql's CommonJS build; the type
// checks below (instanceof inside graphql) must come from that same build, not from the ES build an
// import here would load.
const { isInputObjectType, isListType, isNonNullType, Kind, TypeInfo, valueFromAST, visit, visitWithTypeInfo } = createRequire(import.meta.url)('graphql') as typeof import('graphql');

// Bounds on what one GraphQL request may ask for (SECURITY.md, README "GraphQL API"). The operation's
// shape is bounded by graphql-armor (depth, cost, aliases, tokens); the values it carries are bounded
// here: every string argument and input field has a maximum length, found by its name, and every list
// a maximum count. A value over its bound is refused before any resolver runs, so a long search string
// never reaches the database.

/** The longest value of each string argument or input field, by name; any other string: DEFAULT_MAX_STRING. */
export const STRING_LIMITS: Readonly<Record<string, number>> = {
  search: 200,
  serial: 200,
  numberSpace: 200,
  key: 300,
  project: 300,
  after: 200,
  registry: 64,
  registries: 64,
  organization: 64,
  slug: 64,
  party: 8,
  countries: 8,
  country: 8,
  categories: 64,
  projectTypes: 64,
  statuses: 64,
  reductionRemoval: 64,
  methodologies: 64,
  eligibility: 64,
  tags: 64,
  kinds: 64,
  severities: 64,
  id: 24,
  name: 200,
  nameJa: 200,
  reason: 2000,
};
export const DEFAULT_MAX_STRING = 1000;
/** The most items any list argument takes. */
export const MAX_LIST_ITEMS = 200;

export const limitOf = (name: string) => STRING_LIMITS[name] ?? DEFAULT_MAX_STRING;

const refusal = (message: string) => new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } });

/** The problems of one coerced value of `type`, named `name` (an argument or input field). */
function problemsOf(name: string, type: GraphQLInputType, value: unknown): string[] {
  if (value === null || value === undefined) return [];
  if (isNonNullType(type)) return problemsOf(name, type.ofType, value);
  if (isListType(type)) {
    const items = Array.isArray(value) ? value : [value];
    if (items.length > MAX_LIST_ITEMS) return [`${name}: at most ${MAX_LIST_ITEMS} values (got ${items.length})`];
    return items.flatMap((item) => problemsOf(name, type.ofType, item));
  }
  if (isInputObjectType(type)) {
    if (typeof value !== 'object') return [];
    return Object.values(type.getFields()).flatMap((field) => problemsOf(field.name, field.type, (value as Record<string, unknown>)[field.name]));
  }
  if (typeof value === 'string' && value.length > limitOf(name)) {
    return [`${name}: at most ${limitOf(name).toLocaleString('en-US')} characters (got ${value.length.toLocaleString('en-US')})`];
  }
  return [];
}

/**
 * Every argument of the operation, literal or from a variable, checked against its bound. Returns the
 * refusals (empty when the request is within bounds). Values of the wrong type are left to GraphQL's own
 * coercion, which reports them.
 */
export function inputProblems(schema: GraphQLSchema, document: DocumentNode, variables: Record<string, unknown> | undefined): GraphQLError[] {
  const typeInfo = new TypeInfo(schema);
  const problems: string[] = [];
  visit(document, visitWithTypeInfo(typeInfo, {
    Argument(node) {
      const argument = typeInfo.getArgument();
      if (!argument) return;
      const value = node.value.kind === Kind.VARIABLE ? variables?.[node.value.name.value] : valueFromAST(node.value, argument.type, variables);
      problems.push(...problemsOf(argument.name, argument.type, value));
    },
  }));
  return [...new Set(problems)].map(refusal);
}

/** The envelop plugin that refuses out-of-bound values before execution. */
export const useInputLimits = () => ({
  onExecute({ args, setResultAndStopExecution }: {
    args: { schema: GraphQLSchema; document: DocumentNode; variableValues?: Record<string, unknown> | null };
    setResultAndStopExecution(result: { errors: GraphQLError[] }): void;
  }) {
    const errors = inputProblems(args.schema, args.document, args.variableValues ?? undefined);
    if (errors.length > 0) setResultAndStopExecution({ errors });
  },
});
