import { pino } from 'pino';

/** The one logger: JSON lines on stdout. Level from LOG_LEVEL (see schema/config.ts). */
export const log = pino({
  level: process.env.LOG_LEVEL || 'info',
  base: { service: 'tally' },
});
