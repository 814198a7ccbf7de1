import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, gql } from '../api.ts';
import { useI18n, type I18n } from '../i18n.ts';

// Loading, empty and error states, and the hook every page reads data through.

export type QueryState<T> = { data?: T; error?: unknown; loading: boolean; reload(): void };

/** Runs a GraphQL query when its variables (or the language) change. `skip` leaves it unrun. */
export function useQuery<T>(query: string, variables: Record<string, unknown> = {}, options: { skip?: boolean } = {}): QueryState<T> {
  const { locale } = useI18n();
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean }>({ loading: !options.skip });
  const [tick, setTick] = useState(0);
  const key = JSON.stringify(variables);
  useEffect(() => {
    if (options.skip) return;
    let current = true;
    setState((s) => ({ ...s, loading: true, error: undefined }));
    gql<T>(query, variables).then(
      (data) => current && setState({ data, loading: false }),
      (error: unknown) => current && setState({ error, loading: false }),
    );
    return () => {
      current = false;
    };
  }, [query, key, locale, tick, options.skip]);
  return { ...state, reload: () => setTick((n) => n + 1) };
}

/** What went wrong, in words a person can act on. */
export function describeError(error: unknown, { t }: I18n): string {
  if (error instanceof ApiError) {
    switch (error.code) {
      case 'UNAUTHENTICATED': return t('errorUnauthenticated', { detail: error.message });
      case 'FORBIDDEN': return t('errorForbidden', { detail: error.message });
      case 'RATE_LIMITED': return t('errorRateLimited');
      case 'INTERNAL_SERVER_ERROR': return t('errorServer');
      case 'HTTP': return t('errorServer');
      default: return error.message;
    }
  }
  if (error instanceof TypeError) return t('errorNetwork');
  return String((error as Error)?.message ?? error);
}

export function Loading() {
  const { t } = useI18n();
  return <p class="state" role="status" aria-live="polite">{t('loading')}</p>;
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <p class="state empty">{children}</p>;
}

export function ErrorBox({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const i18n = useI18n();
  return (
    <div class="error" role="alert">
      <p>{describeError(error, i18n)}</p>
      {onRetry && <button type="button" onClick={onRetry}>{i18n.t('retry')}</button>}
    </div>
  );
}

/** Renders children with the data once loaded, else the loading or error state. */
export function Loaded<T>({ state, children }: { state: QueryState<T>; children: (data: T) => ComponentChildren }) {
  if (state.error) return <ErrorBox error={state.error} onRetry={state.reload} />;
  if (!state.data) return <Loading />;
  return <>{children(state.data)}</>;
}
