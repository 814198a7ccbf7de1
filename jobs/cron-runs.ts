import cron from 'node-cron';

// The times a cron schedule fires after a given instant, as the scheduler (node-cron, in the process's
// time zone) fires them. node-cron computes a pattern's next match after any instant (its TimeMatcher),
// but its public `getNextRuns` counts only from the real clock; freshness needs them from the last
// pull and against an injected clock, so the matcher is taken from a task that is created and
// destroyed at once, never started. A node-cron release without it fails here, loudly, not silently.

type Matcher = { getNextMatch(after: Date): Date };

const matchers = new Map<string, Matcher>();

function matcherOf(expression: string): Matcher {
  const known = matchers.get(expression);
  if (known) return known;
  const task = cron.createTask(expression, () => undefined);
  const matcher = (task as unknown as { timeMatcher?: Partial<Matcher> }).timeMatcher;
  void task.destroy();
  if (typeof matcher?.getNextMatch !== 'function') {
    throw new Error('node-cron has no time matcher on its tasks any more: scheduled runs cannot be computed (jobs/cron-runs.ts)');
  }
  matchers.set(expression, matcher as Matcher);
  return matcher as Matcher;
}

/** The first `count` times `expression` fires strictly after `after`. */
export function runsAfter(expression: string, after: Date, count: number): Date[] {
  const matcher = matcherOf(expression);
  const runs: Date[] = [];
  for (let from = after; runs.length < count;) {
    from = matcher.getNextMatch(from);
    runs.push(from);
  }
  return runs;
}
