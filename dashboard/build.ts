import { readFile } from 'node:fs/promises';
import { build } from 'esbuild';

// The dashboard is TypeScript and JSX (Preact) under dashboard/src, bundled by esbuild into one script
// when the server starts: no build step to forget, and a bundle in memory is served from here.

const source = (path: string) => new URL(`./src/${path}`, import.meta.url).pathname;

export type DashboardBundle = { js: string; css: string; html: string };

export async function buildDashboard(): Promise<DashboardBundle> {
  const result = await build({
    entryPoints: [source('main.tsx')],
    bundle: true,
    write: false,
    format: 'esm',
    target: 'es2020',
    minify: true,
    sourcemap: false,
    jsx: 'automatic',
    jsxImportSource: 'preact',
    legalComments: 'none',
    logLevel: 'silent',
  });
  const js = result.outputFiles[0]!.text;
  const [css, html] = await Promise.all([readFile(source('styles.css'), 'utf8'), readFile(source('index.html'), 'utf8')]);
  return { js, css, html };
}
