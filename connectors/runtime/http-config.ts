import { z } from 'zod';
import type { HttpClientOptions } from './http.ts';

/** A registry's own defaults for reaching its API. */
export type HttpDefaults = {
  baseUrl: string;
  /** Spacing between the starts of two requests, retries included. */
  minIntervalMs: number;
  /** Deadline for one attempt, to the last byte of the body. */
  timeoutMs: number;
  /** Attempts after the first one. */
  retries: number;
  /** Backoff base: the n-th retry waits about baseDelayMs × 2^(n-1). */
  baseDelayMs: number;
  /** A Retry-After longer than this fails the pull instead of sleeping. */
  maxRetryAfterMs?: number;
};

/**
 * The configuration every registry API has: where it is, how far apart requests go, how long one may
 * take, and how often and how patiently a failed one is retried, with the registry's defaults.
 * A connector adds its own settings with `.extend({ … })`.
 */
export function httpConfig(defaults: HttpDefaults) {
  return z.object({
    baseUrl: z.string().url().default(defaults.baseUrl),
    minIntervalMs: z.number().int().min(0).default(defaults.minIntervalMs),
    timeoutMs: z.number().int().min(1).default(defaults.timeoutMs),
    retries: z.number().int().min(0).default(defaults.retries),
    baseDelayMs: z.number().int().min(0).default(defaults.baseDelayMs),
    maxRetryAfterMs: z.number().int().min(0).default(defaults.maxRetryAfterMs ?? 120_000),
  });
}

export type HttpConfig = z.infer<ReturnType<typeof httpConfig>>;

/** The HTTP client's options from such a configuration; `extra` adds the registry's headers and the like. */
export function httpOptions(source: string, config: HttpConfig, extra: Partial<HttpClientOptions> = {}): HttpClientOptions {
  const { baseUrl, minIntervalMs, timeoutMs, retries, baseDelayMs, maxRetryAfterMs } = config;
  return { source, baseUrl, minIntervalMs, timeoutMs, retries, baseDelayMs, maxRetryAfterMs, ...extra };
}
