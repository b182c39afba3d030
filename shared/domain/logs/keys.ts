// Domain (logs): the key layouts of the log archive. Pure.
//
//   landing   <prefix><host>/<class>/<file>                  (hosts upload here)
//   loose     logs/<class>/<host>/<yyyy-mm-dd>/<file>          (daily, one object per rotated file)
//   bundle    log-bundles/<class>/<host>/<yyyy-mm>/part-<nnn>.tar.gz
//   manifest  log-bundles/<class>/<host>/<yyyy-mm>/part-<nnn>.manifest.json   (the commit marker)
//
// Loose files and bundles live under different top-level prefixes so that the
// lifecycle rules of each can differ (see lifecycle/logs.ts). A bundle's tar
// member name is `<yyyy-mm-dd>/<file>`, the loose key's tail.

export const LOOSE_ROOT = 'logs/';
export const BUNDLE_ROOT = 'log-bundles/';
/** A bundle still being written across invocations: its pending state and carried-over bytes. */
export const BUNDLE_WORK_ROOT = 'log-bundles-work/';

const HOST = /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/;
const CLASS = /^[a-z][a-z0-9-]*$/;
const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const MONTH = /^(\d{4})-(\d{2})$/;

export interface LandingFile {
  key: string;
  host: string;
  logClass: string;
  file: string;
}

export type LandingParse =
  | { ok: true; file: LandingFile }
  | { ok: false; key: string; problem: string; kind: 'malformed' | 'unknown-class' | 'folder-marker' };

function fileProblem(file: string): string | undefined {
  if (file === '' || file === '.' || file === '..') return `file name "${file}" is empty or a dot name`;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we reject.
  if (/[\u0000-\u001f\u007f\\]/.test(file))
    return `file name "${file}" contains control characters or a backslash`;
  if (file.length > 200) return 'file name is longer than 200 characters';
  return undefined;
}

/** Reads `<prefix><host>/<class>/<file>`; anything else is reported, never guessed at. */
export function parseLandingKey(key: string, prefix: string, knownClasses: readonly string[]): LandingParse {
  const expected = `expected ${prefix}<host>/<class>/<file>`;
  if (!key.startsWith(prefix))
    return { ok: false, key, kind: 'malformed', problem: `outside the landing prefix; ${expected}` };
  const rest = key.slice(prefix.length);
  if (rest.endsWith('/'))
    return { ok: false, key, kind: 'folder-marker', problem: 'a folder marker, not a file' };
  const parts = rest.split('/');
  if (parts.length !== 3) {
    return {
      ok: false,
      key,
      kind: 'malformed',
      problem: `${parts.length} path segment(s) after the prefix; ${expected}`,
    };
  }
  const [host, logClass, file] = parts as [string, string, string];
  if (!HOST.test(host))
    return { ok: false, key, kind: 'malformed', problem: `host "${host}" is not a host name; ${expected}` };
  const fp = fileProblem(file);
  if (fp) return { ok: false, key, kind: 'malformed', problem: `${fp}; ${expected}` };
  if (!CLASS.test(logClass) || !knownClasses.includes(logClass)) {
    return {
      ok: false,
      key,
      kind: 'unknown-class',
      problem: `class "${logClass}" is not in the policy (logs.classes: ${knownClasses.join(', ')})`,
    };
  }
  return { ok: true, file: { key, host, logClass, file } };
}

export function isValidDay(day: string): boolean {
  const m = DAY.exec(day);
  if (!m) return false;
  const d = new Date(`${day}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === day;
}

/**
 * The day a rotated file belongs to: the first valid date in its name
 * (logrotate `dateext`: access.log-20250131, app-2025-01-31.log.gz), else
 * `fallbackDay` (the upload's local date). Docs ask for `dateyesterday` so the
 * name carries the day of the content.
 */
export function dayOfFile(file: string, fallbackDay: string): string {
  // yyyymmdd or yyyy-mm-dd, optionally followed by an hour (and minute): access.log-2025013112
  const re = /(?:^|\D)(20\d{2})-?(\d{2})-?(\d{2})(?:\d{2}){0,2}(?!\d)/g;
  for (let m = re.exec(file); m; m = re.exec(file)) {
    const day = `${m[1]}-${m[2]}-${m[3]}`;
    if (isValidDay(day)) return day;
    re.lastIndex = m.index + 1;
  }
  return fallbackDay;
}

export function monthOfDay(day: string): string {
  return day.slice(0, 7);
}

export function looseKey(logClass: string, host: string, day: string, file: string): string {
  return `${LOOSE_ROOT}${logClass}/${host}/${day}/${file}`;
}

export function loosePrefix(logClass: string, host?: string, monthOrDay?: string): string {
  if (!host) return `${LOOSE_ROOT}${logClass}/`;
  return `${LOOSE_ROOT}${logClass}/${host}/${monthOrDay ?? ''}`;
}

export interface LooseRef {
  key: string;
  logClass: string;
  host: string;
  day: string;
  file: string;
  /** The tar member name: `<yyyy-mm-dd>/<file>`. */
  member: string;
}

export function parseLooseKey(key: string): LooseRef | undefined {
  if (!key.startsWith(LOOSE_ROOT)) return undefined;
  const parts = key.slice(LOOSE_ROOT.length).split('/');
  if (parts.length !== 4) return undefined;
  const [logClass, host, day, file] = parts as [string, string, string, string];
  if (!CLASS.test(logClass) || !HOST.test(host) || !isValidDay(day) || fileProblem(file)) return undefined;
  return { key, logClass, host, day, file, member: `${day}/${file}` };
}

export function memberDay(member: string): string {
  return member.slice(0, 10);
}

export function bundleMonthPrefix(logClass: string, host: string, month: string): string {
  return `${BUNDLE_ROOT}${logClass}/${host}/${month}/`;
}

export function bundleKey(logClass: string, host: string, month: string, part: number): string {
  return `${bundleMonthPrefix(logClass, host, month)}part-${String(part).padStart(3, '0')}.tar.gz`;
}

export function manifestKey(logClass: string, host: string, month: string, part: number): string {
  return `${bundleMonthPrefix(logClass, host, month)}part-${String(part).padStart(3, '0')}.manifest.json`;
}

/** Where the pending state of one bundle part lives until its manifest is written. */
export function bundleWorkPrefix(logClass: string, host: string, month: string, part: number): string {
  return `${BUNDLE_WORK_ROOT}${logClass}/${host}/${month}/part-${String(part).padStart(3, '0')}/`;
}

export interface BundleRef {
  key: string;
  logClass: string;
  host: string;
  month: string;
  part: number;
  kind: 'bundle' | 'manifest';
}

export function parseBundleKey(key: string): BundleRef | undefined {
  if (!key.startsWith(BUNDLE_ROOT)) return undefined;
  const parts = key.slice(BUNDLE_ROOT.length).split('/');
  if (parts.length !== 4) return undefined;
  const [logClass, host, month, name] = parts as [string, string, string, string];
  const m = /^part-(\d{3})\.(tar\.gz|manifest\.json)$/.exec(name);
  if (!m || !CLASS.test(logClass) || !HOST.test(host) || !MONTH.test(month)) return undefined;
  return { key, logClass, host, month, part: Number(m[1]), kind: m[2] === 'tar.gz' ? 'bundle' : 'manifest' };
}

export function isValidMonth(month: string): boolean {
  const m = MONTH.exec(month);
  return Boolean(m) && Number(m?.[2]) >= 1 && Number(m?.[2]) <= 12;
}

/** s3://bucket/prefix/ → its parts (the policy schema already checked the form). */
export function splitS3Url(url: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([^/]+)\/(.*)$/.exec(url);
  if (!m) throw new Error(`"${url}" is not an S3 URL; expected s3://bucket/prefix/`);
  return { bucket: m[1] as string, prefix: m[2] as string };
}
