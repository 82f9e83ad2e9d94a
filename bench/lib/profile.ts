import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { round } from './stats';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

/** Who owns a stack frame: a package under node_modules, a file of ours, Node itself, or V8's own buckets. */
function owner(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : '(native)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (url.startsWith('node:')) return 'node internals';
  const m = /\/(server|bench|migrations)\/(.*)$/.exec(url);
  return m ? `${m[1]}/${m[2]}` : url;
}

/**
 * Self time of the V8 CPU profiles in `dir` (all processes together), by owner and by function, as shares of
 * the busy time (idle excluded). Enough to say where a request's CPU goes without opening DevTools.
 */
export function summarizeProfiles(dir: string, top = 15) {
  const byOwner = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let busy = 0;
  let totalMs = 0;
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  for (const f of files) {
    const p = JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as {
      nodes: ProfileNode[];
      startTime: number;
      endTime: number;
      samples: number[];
    };
    const interval = (p.endTime - p.startTime) / 1000 / Math.max(1, p.samples.length);
    totalMs += (p.endTime - p.startTime) / 1000;
    for (const n of p.nodes) {
      const ms = (n.hitCount ?? 0) * interval;
      if (!ms || n.callFrame.functionName === '(idle)') continue;
      busy += ms;
      const o = owner(n.callFrame.url, n.callFrame.functionName);
      byOwner.set(o, (byOwner.get(o) ?? 0) + ms);
      const key = `${n.callFrame.functionName || '(anonymous)'} ${o}:${n.callFrame.lineNumber + 1}`;
      byFunction.set(key, (byFunction.get(key) ?? 0) + ms);
    }
  }
  const rank = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, ms]) => ({ name, ms: round(ms, 0), share_pct: round((100 * ms) / Math.max(1, busy), 1) }));
  return { profiles: files.length, busy_ms: round(busy, 0), wall_ms: round(totalMs, 0), by_owner: rank(byOwner), by_function: rank(byFunction) };
}
