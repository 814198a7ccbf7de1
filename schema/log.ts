import { pino } from 'pino';
import { readConfig } from './config.ts';

/** The one logger: JSON lines on stdout, at LOG_LEVEL. */
export const log = pino({
  level: readConfig().logLevel,
  base: { service: 'tally' },
});
