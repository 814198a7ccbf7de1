import { spawn } from 'node:child_process';
import { constants } from 'node:os';

// `tally <command>`: the one entry point for people and for npm scripts (`npm start` is `tally serve`).
//
// The commands that stream a source into the ledger (`ingest`, `sync`) or the ledger into files (`dump`)
// hold one chunk of it at a time, yet with V8's default heap limit (a share of the machine's memory)
// the heap grows long before it is collected, and peak memory follows the machine rather than the work.
// They run in a child process with a heap limit instead, so that V8 collects sooner: peak RSS stays flat
// whatever the file's size (bench/ingest.ts and bench/downloads.ts measure it). A limit given in NODE_OPTIONS or on node's command line wins: an upload
// that holds itself whole (a CAD Trust v1 upload maps its tables together) may need a larger one.

const STREAMING_COMMANDS = new Set(['ingest', 'sync', 'dump']);
const HEAP_MB = 256;
const STREAMING_HEAP = [`--max-old-space-size=${HEAP_MB}`, '--max-semi-space-size=2'];

const heapLimitGiven = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].some((flag) => flag.startsWith('--max-old-space-size'));

const streaming = STREAMING_COMMANDS.has(process.argv[2] ?? '');

if (streaming && !heapLimitGiven) {
  const child = spawn(process.execPath, [...STREAMING_HEAP, ...process.execArgv, ...process.argv.slice(1)], { stdio: ['inherit', 'inherit', 'inherit', 'ipc'] });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
  child.once('exit', (code, signal) => {
    // V8 aborts a process that runs out of heap.
    if (signal === 'SIGABRT' || code === 134) {
      console.error(`tally ${process.argv[2]}: the work needed more than its ${HEAP_MB} MB heap; run it again with NODE_OPTIONS=--max-old-space-size=<MB>`);
    }
    process.exit(code ?? 128 + (signal ? constants.signals[signal] : 0));
  });
} else {
  // A command run for a launching process dies with it, even one killed outright: the IPC channel
  // closes with the parent, and a batch in flight is then left to the next process (jobs/batches.ts).
  const launched = streaming && process.send !== undefined;
  if (launched) process.once('disconnect', () => process.kill(process.pid, 'SIGKILL'));
  const { main } = await import('./commands.ts');
  await main(process.argv.slice(2));
  if (launched) {
    process.removeAllListeners('disconnect');
    process.disconnect();
  }
}
