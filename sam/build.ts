/**
 * `npm run build`: what `sam build` makes for each esbuild function, from the same Metadata, into
 * `.aws-sam/build/<LogicalId>/` (git-ignored).
 */
import { join } from 'node:path';
import { build } from 'esbuild';
import { type FunctionDefinition, functionDefinitions, loadTemplate, ROOT } from './template.js';

export const BUILD_DIR = join(ROOT, '.aws-sam', 'build');

const list = (v: unknown): string[] =>
  Array.isArray(v) ? v.map(String) : typeof v === 'string' ? v.split(',') : [];
const pairs = (v: unknown): Record<string, string> =>
  Object.fromEntries(
    list(v).map((entry) => {
      const i = entry.indexOf('=');
      return [entry.slice(0, i).trim(), entry.slice(i + 1)];
    }),
  );

/**
 * Bundle one function; returns the path of its handler file. `options.outdir` (default
 * `.aws-sam/build/<LogicalId>`) keeps concurrent builds (the local stack, `npm run build`) apart.
 */
export async function buildFunction(
  fn: FunctionDefinition,
  options: { outdir?: string } = {},
): Promise<string> {
  const p = fn.buildProperties;
  const outdir = options.outdir ?? join(BUILD_DIR, fn.logicalId);
  await build({
    entryPoints: list(p.EntryPoints).map((e) => join(ROOT, e)),
    outdir,
    bundle: true,
    platform: 'node',
    format: p.Format === 'esm' ? 'esm' : 'cjs',
    target: String(p.Target ?? 'es2023'),
    minify: p.Minify === true || p.Minify === 'true',
    sourcemap: p.Sourcemap === true || p.Sourcemap === 'true',
    mainFields: list(p.MainFields ?? 'main,module'),
    outExtension: pairs(p.OutExtension),
    banner: pairs(p.Banner),
    external: list(p.External),
    logLevel: 'warning',
  });
  const file = fn.handler.slice(0, fn.handler.lastIndexOf('.'));
  return join(outdir, `${file}${pairs(p.OutExtension)['.js'] ?? '.js'}`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const fn of functionDefinitions(loadTemplate())) {
    const started = performance.now();
    const file = await buildFunction(fn);
    console.log(`${fn.logicalId}: ${file} (${Math.round(performance.now() - started)} ms)`);
  }
}
