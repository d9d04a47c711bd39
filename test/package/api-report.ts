/**
 * The public surface of the package, read the way a consumer's compiler reads it: the library's
 * declarations are emitted in memory from the same tsconfig as `npm run build:lib`, then each entry
 * point's exports are listed with their kind, and every named type those declarations reference is
 * checked to be importable from some entry point (a referenced but unexported type is one a consumer
 * can see in their editor but never name).
 */
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const ENTRIES = ['authorizer', 'policy', 'tenants'] as const;
export type Entry = (typeof ENTRIES)[number];

export interface ApiReport {
  /** Per entry point: `name  kind` lines, sorted. */
  readonly exports: Record<Entry, string[]>;
  /** Per entry point: each export's declaration as emitted, comments removed, sorted by name. */
  readonly declarations: Record<Entry, string[]>;
  /** Names exported as values (what `import()` yields at run time), per entry point. */
  readonly values: Record<Entry, string[]>;
  /** `file: Type (referenced by Export)` for each of our types reachable only by inference. */
  readonly leaks: string[];
  /** Exported declarations without TSDoc, and option members without TSDoc: `Export` / `Options.member`. */
  readonly undocumented: string[];
  /** Declaration files that mention Node's or aws-lambda's types, or reference a `/// <reference types>`. */
  readonly ambientNeeds: string[];
}

function libOptions(): ts.CompilerOptions {
  const path = join(root, 'tsconfig.lib.json');
  const config = ts.readConfigFile(path, ts.sys.readFile);
  if (config.error)
    throw new Error(ts.flattenDiagnosticMessageText(config.error.messageText, '\n'));
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, root, undefined, path);
  if (parsed.errors.length > 0)
    throw new Error(parsed.errors.map((d) => String(d.messageText)).join('\n'));
  return parsed.options;
}

/** Emit the library's .d.ts files into memory: { absolute dist path → text }. */
function emitDeclarations(): Map<string, string> {
  const options: ts.CompilerOptions = {
    ...libOptions(),
    emitDeclarationOnly: true,
    declarationMap: false,
    sourceMap: false,
  };
  const program = ts.createProgram(
    ENTRIES.map((e) => join(root, e, 'index.ts')),
    options,
  );
  const files = new Map<string, string>();
  const result = program.emit(undefined, (name, text) => files.set(resolve(name), text));
  // Type errors are `npm run typecheck`'s business; what matters here is that declarations emit.
  const errors = result.diagnostics;
  if (errors.length > 0) throw new Error(ts.formatDiagnostics(errors, formatHost));
  return files;
}

const formatHost: ts.FormatDiagnosticsHost = {
  getCanonicalFileName: (f) => f,
  getCurrentDirectory: () => root,
  getNewLine: () => '\n',
};

function kindOf(symbol: ts.Symbol): string {
  const f = symbol.flags;
  const kinds: string[] = [];
  if (f & ts.SymbolFlags.Class) kinds.push('class');
  else if (f & ts.SymbolFlags.Function) kinds.push('function');
  else if (f & ts.SymbolFlags.Variable) kinds.push('const');
  if (f & ts.SymbolFlags.Interface) kinds.push('interface');
  if (f & ts.SymbolFlags.TypeAlias) kinds.push('type');
  if (f & ts.SymbolFlags.Enum) kinds.push('enum');
  return kinds.join(' + ') || 'other';
}

/** The surface of the three entry points as emitted for consumers. */
export function apiReport(): ApiReport {
  const dts = emitDeclarations();
  const dist = join(root, 'dist');
  const host = ts.createCompilerHost({});
  const readFile = host.readFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  const directoryExists = host.directoryExists?.bind(host);
  host.readFile = (name) => dts.get(resolve(name)) ?? readFile(name);
  host.fileExists = (name) => dts.has(resolve(name)) || fileExists(name);
  // The declarations live in memory only: `dist/` need not exist on disk (a fresh clone has none), and
  // module resolution gives up on a directory it is told is missing.
  host.directoryExists = (name) =>
    [...dts.keys()].some((file) => file.startsWith(`${resolve(name)}/`)) ||
    (directoryExists?.(name) ?? false);
  const options: ts.CompilerOptions = {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2023,
    strict: true,
    noEmit: true,
    types: [],
  };
  const indexFiles = ENTRIES.map((e) => join(dist, e, 'index.d.ts'));
  const program = ts.createProgram(indexFiles, options, host);
  const checker = program.getTypeChecker();

  const exportsOf = (entry: Entry) => {
    const file = program.getSourceFile(join(dist, entry, 'index.d.ts'));
    const moduleSymbol = file && checker.getSymbolAtLocation(file);
    if (!moduleSymbol) throw new Error(`no module symbol for ${entry}`);
    return checker.getExportsOfModule(moduleSymbol).map((s) => ({
      name: s.name,
      symbol: s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s,
    }));
  };
  const perEntry = Object.fromEntries(ENTRIES.map((e) => [e, exportsOf(e)])) as Record<
    Entry,
    { name: string; symbol: ts.Symbol }[]
  >;
  const exported = new Set(ENTRIES.flatMap((e) => perEntry[e].map((x) => x.symbol)));
  const ours = (file: ts.SourceFile) => resolve(file.fileName).startsWith(`${dist}/`);

  const leaks = new Set<string>();
  for (const { name, symbol } of ENTRIES.flatMap((e) => perEntry[e])) {
    for (const declaration of symbol.declarations ?? []) {
      const visit = (node: ts.Node) => {
        let target: ts.Node | undefined;
        if (ts.isTypeReferenceNode(node)) target = node.typeName;
        else if (ts.isExpressionWithTypeArguments(node)) target = node.expression;
        else if (ts.isTypeQueryNode(node)) target = node.exprName;
        else if (ts.isImportTypeNode(node)) target = node.qualifier;
        if (target) {
          let referenced = checker.getSymbolAtLocation(target);
          if (referenced && referenced.flags & ts.SymbolFlags.Alias)
            referenced = checker.getAliasedSymbol(referenced);
          const home = referenced?.declarations?.[0]?.getSourceFile();
          const isTypeParameter = referenced && referenced.flags & ts.SymbolFlags.TypeParameter;
          if (referenced && home && ours(home) && !isTypeParameter && !exported.has(referenced)) {
            // A member of an exported namespace-like const (e.g. `typeof X[keyof typeof X]`) is fine.
            const parent = (referenced as { parent?: ts.Symbol }).parent;
            if (!(parent && exported.has(parent)))
              leaks.add(`${relative(dist, home.fileName)}: ${referenced.name} (in ${name})`);
          }
        }
        ts.forEachChild(node, visit);
      };
      visit(declaration);
    }
  }

  const undocumented = new Set<string>();
  const hasDoc = (node: ts.Node) => ts.getJSDocCommentsAndTags(node).length > 0;
  for (const { name, symbol } of ENTRIES.flatMap((e) => perEntry[e])) {
    const declarations = symbol.declarations ?? [];
    // A type re-exported from a dependency (aws-jwt-verify's JwksCache) is documented there.
    if (!declarations.some((d) => ours(d.getSourceFile()))) continue;
    if (!declarations.some((d) => hasDoc(ts.isVariableDeclaration(d) ? d.parent.parent : d)))
      undocumented.add(name);
    if (!name.endsWith('Options')) continue;
    for (const member of checker.getPropertiesOfType(checker.getDeclaredTypeOfSymbol(symbol))) {
      if (!(member.declarations ?? []).some(hasDoc)) undocumented.add(`${name}.${member.name}`);
    }
  }

  const ambientNeeds = [...dts.entries()]
    .filter(([, text]) =>
      /\/\/\/\s*<reference|from 'node:|NodeJS\.|\bBuffer\b|'aws-lambda'/.test(text),
    )
    .map(([file]) => relative(dist, file));

  const printer = ts.createPrinter({ removeComments: true });
  const print = (name: string, symbol: ts.Symbol) =>
    (symbol.declarations ?? [])
      .map((d) => {
        const file = d.getSourceFile();
        if (!ours(file)) {
          const from = relative(join(root, 'node_modules'), file.fileName);
          return `// ${name}: re-exported from ${from}`;
        }
        const node = ts.isVariableDeclaration(d) ? d.parent.parent : d;
        return printer.printNode(ts.EmitHint.Unspecified, node, file);
      })
      .join('\n');
  const declarations = (entry: Entry) =>
    [...perEntry[entry]]
      .sort((a, b) => a.name.localeCompare(b.name))
      .map(({ name, symbol }) => print(name, symbol));
  const report = (entry: Entry) =>
    perEntry[entry]
      .map(({ name, symbol }) => `${name}  ${kindOf(symbol)}`)
      .sort((a, b) => a.localeCompare(b));
  const values = (entry: Entry) =>
    perEntry[entry]
      .filter(({ symbol }) => symbol.flags & ts.SymbolFlags.Value)
      .map(({ name }) => name)
      .sort();
  return {
    exports: Object.fromEntries(ENTRIES.map((e) => [e, report(e)])) as Record<Entry, string[]>,
    declarations: Object.fromEntries(ENTRIES.map((e) => [e, declarations(e)])) as Record<
      Entry,
      string[]
    >,
    values: Object.fromEntries(ENTRIES.map((e) => [e, values(e)])) as Record<Entry, string[]>,
    leaks: [...leaks].sort(),
    undocumented: [...undocumented].sort(),
    ambientNeeds: ambientNeeds.sort(),
  };
}
