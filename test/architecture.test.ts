/**
 * The layering rules of DEVELOPERS.md, checked on every run: imports flow sam → tenants → authorizer →
 * policy, across folders only through index.ts; policy/ is pure; only sam/ reads process.env; only
 * authorizer/token.ts imports aws-jwt-verify.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const LAYERS = ['policy', 'authorizer', 'tenants', 'sam'] as const;
type Layer = (typeof LAYERS)[number];

const walk = (dir: string): string[] => {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries.flatMap((name) => {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) return name === 'node_modules' ? [] : walk(full);
    return name.endsWith('.ts') ? [full] : [];
  });
};

interface ImportRef {
  file: string;
  layer: Layer;
  specifier: string;
  typeOnly: boolean;
}

const IMPORT = /(?:^|\n)\s*(import|export)\s+(type\s+)?(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/g;
const DYNAMIC = /import\(\s*['"]([^'"]+)['"]\s*\)/g;

const sources = LAYERS.flatMap((layer) =>
  walk(join(root, layer)).map((file) => ({ file, layer, text: readFileSync(file, 'utf8') })),
);
const imports: ImportRef[] = sources.flatMap(({ file, layer, text }) => [
  ...[...text.matchAll(IMPORT)].map((m) => ({
    file,
    layer,
    specifier: m[3] ?? '',
    typeOnly: !!m[2],
  })),
  ...[...text.matchAll(DYNAMIC)].map((m) => ({
    file,
    layer,
    specifier: m[1] ?? '',
    typeOnly: false,
  })),
]);

const layerOf = (file: string): Layer | undefined =>
  LAYERS.find((l) => relative(root, file).split('/')[0] === l);

const show = (refs: ImportRef[]) => refs.map((r) => `${relative(root, r.file)} → ${r.specifier}`);

describe('architecture', () => {
  it('finds the sources', () => {
    expect(sources.length).toBeGreaterThan(5);
  });

  it('imports flow one way: sam → tenants → authorizer → policy', () => {
    const rank = (l: Layer) => LAYERS.indexOf(l);
    const bad = imports.filter((r) => {
      if (!r.specifier.startsWith('.')) return false;
      const target = layerOf(resolve(dirname(r.file), r.specifier));
      return target !== undefined && rank(target) > rank(r.layer);
    });
    expect(show(bad)).toEqual([]);
  });

  it('across folders, only index.ts is imported', () => {
    const bad = imports.filter((r) => {
      if (!r.specifier.startsWith('.')) return false;
      const target = resolve(dirname(r.file), r.specifier);
      const targetLayer = layerOf(target);
      if (targetLayer === undefined || targetLayer === r.layer) return false;
      return relative(join(root, targetLayer), target) !== 'index.js';
    });
    expect(show(bad)).toEqual([]);
  });

  it('policy/ is pure: no AWS SDK, no node: modules, no packages, no clock', () => {
    const policyImports = imports.filter(
      (r) => r.layer === 'policy' && !r.specifier.startsWith('.'),
    );
    expect(show(policyImports)).toEqual([]);
    const clocks = sources
      .filter(
        (s) =>
          s.layer === 'policy' &&
          /\bDate\.now\(|new Date\(|performance\.now\(|process\./.test(s.text),
      )
      .map((s) => relative(root, s.file));
    expect(clocks).toEqual([]);
  });

  it('only sam/ reads process.env', () => {
    const readers = sources
      .filter((s) => s.layer !== 'sam' && /process\.env/.test(s.text))
      .map((s) => relative(root, s.file));
    expect(readers).toEqual([]);
  });

  it('only authorizer/token.ts imports aws-jwt-verify', () => {
    const bad = imports.filter(
      (r) =>
        r.specifier.startsWith('aws-jwt-verify') &&
        relative(root, r.file) !== join('authorizer', 'token.ts'),
    );
    expect(show(bad)).toEqual([]);
  });
});
