// esbuild plugins of the Lambda packaging (serverless.yml, custom.esbuild.plugins;
// bench/bundles.ts uses the same list): sdk-schema-literal-keys and pure-commonjs.
//
// sdk-schema-literal-keys: the AWS SDK's generated schemas (dist-es/schemas/
// schemas_0.js of each client) write trait objects with computed keys that
// name module constants, `{ [_xN]: _m4 }` where `const _xN = "xmlName"`.
// esbuild cannot prove a computed key free of side effects, so it keeps every
// shape of the service, used or not: the EC2 client alone is ~540 KB minified
// with no command sent. Rewriting each such key to the string literal the
// constant holds (`{ "xmlName": _m4 }`) changes no value and lets the bundle
// keep only the shapes of the commands a function sends (EC2: ~8 KB plus its
// commands). test/deploy/bundles.test.ts checks that every schema export of
// the clients kura uses is deep-equal before and after the rewrite.
const { readFile } = require('node:fs/promises');

const SCHEMA_FILE = /[\\/]@aws-sdk[\\/][^\\/]+[\\/]dist-es[\\/]schemas[\\/]schemas_\d+\.js$/;

/** The schema module's source with computed keys that name string constants written as literals. */
function literalKeys(text) {
  const constants = new Map();
  for (const m of text.matchAll(/^const (_\w+) = ("[^"\\\n]*");$/gm)) constants.set(m[1], m[2]);
  return text.replace(/([{,]\s*)\[(_\w+)\]:/g, (all, before, id) => {
    const value = constants.get(id);
    return value === undefined ? all : `${before}${value}:`;
  });
}

const sdkSchemaLiteralKeys = {
  name: 'sdk-schema-literal-keys',
  setup(build) {
    build.onLoad({ filter: SCHEMA_FILE }, async (args) => ({
      contents: literalKeys(await readFile(args.path, 'utf8')),
      loader: 'js',
    }));
  },
};

// pure-commonjs: a CommonJS package is kept in a bundle whenever a module
// imports it, used or not (esbuild cannot tell that requiring it has no side
// effects). tar-stream (and streamx under it, ~35 KB) has none: marked so, it
// stays out of a function that imports the log restore but never reads a
// bundle (the restore plan's listings) and in the ones that do.
const PURE_COMMONJS = /^tar-stream$/;
const pureCommonJs = {
  name: 'pure-commonjs',
  setup(build) {
    build.onResolve({ filter: PURE_COMMONJS }, async (args) => {
      if (args.pluginData?.pure) return undefined;
      const r = await build.resolve(args.path, {
        kind: args.kind,
        importer: args.importer,
        resolveDir: args.resolveDir,
        pluginData: { pure: true },
      });
      return r.errors.length ? undefined : { path: r.path, namespace: r.namespace, sideEffects: false };
    });
  },
};

module.exports = [sdkSchemaLiteralKeys, pureCommonJs];
module.exports.literalKeys = literalKeys;
module.exports.SCHEMA_FILE = SCHEMA_FILE;
