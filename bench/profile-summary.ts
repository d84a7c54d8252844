/**
 * Summarizes a V8 CPU profile (`node --cpu-prof`): the functions with the
 * most self time, and the inclusive time of each of the package's own
 * functions (`lib/`). Used for the analysis in bench/RESULTS.md.
 *
 * Usage: `npx tsx bench/profile-summary.ts <file.cpuprofile> [top=25]`
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/**
 * Time per function, in µs and as a share of all samples.
 *
 * @example
 * ```ts
 * const slowest = summarize(profile).rows.sort((a, b) => b.selfUs - a.selfUs)[0];
 * ```
 */
export interface FunctionTime {
  name: string;
  selfUs: number;
  totalUs: number;
}

/**
 * Self and inclusive time per function (recursion counted once per sample).
 *
 * @example
 * ```ts
 * const rows = summarize(JSON.parse(readFileSync('x.cpuprofile', 'utf8')));
 * ```
 */
export function summarize(profile: CpuProfile): { rows: FunctionTime[]; totalUs: number } {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parent.set(child, node.id);
  const rows = new Map<string, FunctionTime>();
  const row = (name: string) => {
    let entry = rows.get(name);
    if (!entry) rows.set(name, (entry = { name, selfUs: 0, totalUs: 0 }));
    return entry;
  };
  let totalUs = 0;
  profile.samples.forEach((id, index) => {
    const us = profile.timeDeltas[index + 1] ?? 0;
    // A server waits most of the run for its turn: count busy time only.
    if (byId.get(id)!.callFrame.functionName === '(idle)') return;
    totalUs += us;
    row(label(byId.get(id)!)).selfUs += us;
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const name = label(byId.get(at)!);
      if (!seen.has(name)) row(name).totalUs += us;
      seen.add(name);
    }
  });
  return { rows: [...rows.values()], totalUs };
}

function label(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const file = url ? relative(process.cwd(), url.replace(/^file:\/\//, '')) : '';
  return `${functionName || '(anonymous)'}${file ? ` ${file}:${lineNumber + 1}` : ''}`;
}

function main(): void {
  const [file, topArg] = process.argv.slice(2);
  if (!file) throw new Error('usage: profile-summary <file.cpuprofile> [top]');
  const top = Number(topArg ?? 25);
  const { rows, totalUs } = summarize(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile);
  const pct = (us: number) => `${((us / totalUs) * 100).toFixed(1).padStart(5)} %`;
  console.log(`${(totalUs / 1e6).toFixed(2)} s busy (idle excluded)\n\nself time:`);
  for (const r of [...rows].sort((a, b) => b.selfUs - a.selfUs).slice(0, top)) {
    console.log(`${pct(r.selfUs)}  ${r.name}`);
  }
  console.log('\ninclusive time, functions of the package:');
  const ours = (name: string) => / lib\/|node_modules\/\.cache\//.test(name);
  for (const r of rows.filter((r) => ours(r.name)).sort((a, b) => b.totalUs - a.totalUs)) {
    if (r.totalUs / totalUs >= 0.002) console.log(`${pct(r.totalUs)}  ${r.name}`);
  }
}

if (require.main === module) main();
