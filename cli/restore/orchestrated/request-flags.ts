// `kura restore start`: the restore request built from the command's flags
// (or read from --request file.json).
import { readJsonObject } from '../../support/context.ts';

export interface StartFlags {
  request?: string;
  id?: string;
  reason?: string;
  ticket?: string;
  database?: string;
  snapshot?: string;
  instance: string[];
  content: string[];
  logs: string[];
  at?: string;
  approval?: boolean;
  local?: boolean;
  yes?: boolean;
  json?: boolean;
  stage: string;
}

export const collect = (v: string, acc: string[]) => [...acc, v];

/** The request from --request file.json, with flags layered on top. */
export function buildRequest(
  f: Omit<StartFlags, 'local' | 'yes' | 'json' | 'stage'>,
): Record<string, unknown> {
  let req: Record<string, unknown> = {};
  if (f.request) {
    req = readJsonObject(
      f.request,
      '--request',
      '{"reason": "...", "database": {"instance": "<id>", "snapshot": "latest"}}',
    );
  }
  if (f.id) req.id = f.id;
  if (f.reason) req.reason = f.reason;
  if (f.ticket) req.ticket = f.ticket;
  if (f.at) req.at = f.at;
  if (f.approval) req.approval = true;
  if (f.database)
    req.database = {
      instance: f.database,
      ...(f.snapshot ? { snapshot: f.snapshot } : f.at ? {} : { snapshot: 'latest' }),
    };
  const list = (k: string) => (Array.isArray(req[k]) ? (req[k] as unknown[]) : []);
  if (f.instance.length) {
    req.instances = [
      ...list('instances'),
      ...f.instance.map((s) => {
        const [instance, image] = s.split('=');
        return { instance, ...(image ? { image } : {}) };
      }),
    ];
  }
  if (f.content.length) {
    req.content = [
      ...list('content'),
      ...f.content.map((s) => {
        const [source, generation, ...prefix] = s.split(':');
        return {
          source,
          ...(generation ? { generation } : {}),
          ...(prefix.length ? { prefix: prefix.join(':') } : {}),
        };
      }),
    ];
  }
  if (f.logs.length) {
    req.logs = [
      ...list('logs'),
      ...f.logs.map((s) => {
        const [cls, host, from, to] = s.split(':');
        return { class: cls, host, from, ...(to ? { to } : {}) };
      }),
    ];
  }
  return req;
}
