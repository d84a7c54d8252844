/**
 * Renders the results: a text table for the terminal, and Markdown for
 * bench/RESULTS.md (`npx tsx bench/format.ts bench/results.json`).
 */
import { readFileSync } from 'node:fs';
import { cpuOf, HTTP_VARIANTS, rpsOf, type BenchResults, type TargetVerdict } from './report';

/**
 * The terminal report.
 *
 * @example
 * ```ts
 * console.log(formatText(results));
 * ```
 */
export function formatText(results: BenchResults): string {
  const { machine, settings } = results;
  const lines = [
    `machine: ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node} (${machine.platform}); load at start ${results.loadAverageAtStart.join(' ')}`,
    `settings: ${settings.rounds} round(s) × ${settings.durationSeconds} s per variant, ${settings.connections} connections, 1 autocannon worker, ${settings.tokens} tokens round-robin for hit-many / no-cache / redis-hit, issuer latency ${settings.issuerLatencyMs} ms for no-cache and cold-burst${results.quick ? ' (QUICK: smoke run, figures not meaningful)' : ''}`,
    '',
    row(['variant', ...COLUMNS]),
  ];
  for (const [name, cells] of variantRows(results)) lines.push(row([name, ...cells]));
  const burst = results.coldBurst;
  lines.push(
    '',
    layerLine(results),
    `hit / same-shape, ${results.hitPairs.pairs} back-to-back pairs of ${results.hitPairs.seconds} s: per pair ${results.hitPairs.rpsRatios.map((r) => r.toFixed(2)).join(' / ')} by throughput, ${results.hitPairs.cpuRatios.map((r) => r.toFixed(2)).join(' / ')} by CPU; A/A control (a second same-shape process ÷ same-shape) ${results.hitPairs.controlRpsRatios.map((r) => r.toFixed(2)).join(' / ')}, median ${results.hitPairs.controlRpsRatio.toFixed(3)} (by CPU ${results.hitPairs.controlCpuRatio.toFixed(3)})`,
    `cold-burst: ${settings.burstSize} concurrent requests, one fresh token: introspection calls per round ${burst.rounds.map((r) => r.introspections).join(', ')}; all answered in ${burst.medianMs.toFixed(0)} ms (median)`,
    `micro: ${results.micro.hitMicroseconds.toFixed(2)} µs per cache hit through the middleware; ${Math.round(results.micro.assertionsPerSecond)} client assertions signed per second; ${Math.round(results.micro.heapBytesPerEntry)} heap bytes per cached entry (${results.micro.heapEntries} entries)`,
    ...secondEditionLines(results),
    '',
    row(['target', 'wanted', 'measured', 'verdict']),
  );
  for (const t of results.targets) lines.push(row([t.name, t.target, t.measured, verdict(t)]));
  return lines.join('\n');
}

/**
 * The Markdown report: table, Mermaid chart, targets.
 *
 * @example
 * ```ts
 * writeFileSync('report.md', formatMarkdown(results));
 * ```
 */
export function formatMarkdown(results: BenchResults): string {
  const { machine, settings } = results;
  const measured = HTTP_VARIANTS.filter((v) => !('skipped' in results.variants[v]));
  const table = [
    `| variant | ${COLUMNS.join(' | ')} |`,
    '|---|---:|---|---:|---:|---:|---:|---:|',
    ...variantRows(results).map(([name, cells]) => `| \`${name}\` | ${cells.join(' | ')} |`),
  ];
  const chart = [
    '```mermaid',
    'xychart-beta',
    '    title "Throughput per variant (req/s, median of rounds)"',
    `    x-axis [${measured.map((v) => `"${v}"`).join(', ')}]`,
    '    y-axis "requests per second"',
    `    bar [${measured.map((v) => Math.round(rpsOf(results, v))).join(', ')}]`,
    '```',
  ];
  const targets = [
    '| target | wanted | measured | verdict |',
    '|---|---|---|---|',
    ...results.targets.map((t) => `| ${t.name} | ${t.target} | ${t.measured} | ${verdict(t)} |`),
  ];
  const burst = results.coldBurst;
  return [
    `Machine: ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node}, ${machine.platform}. ` +
      `${settings.rounds} rounds × ${settings.durationSeconds} s per variant, variants interleaved, ` +
      `${settings.connections} connections, one autocannon worker on the same machine.`,
    '',
    ...table,
    '',
    ...chart,
    '',
    layerLine(results),
    '',
    `Cold burst: ${settings.burstSize} concurrent requests with one fresh token → ` +
      `${burst.rounds.map((r) => r.introspections).join(', ')} introspection call(s) per round; ` +
      `all answered in ${burst.medianMs.toFixed(0)} ms (median, issuer latency ${settings.issuerLatencyMs} ms).`,
    '',
    `Micro: ${results.micro.hitMicroseconds.toFixed(2)} µs per cache hit through the middleware function; ` +
      `${Math.round(results.micro.assertionsPerSecond)} client assertions signed per second; ` +
      `${Math.round(results.micro.heapBytesPerEntry)} bytes of heap per cached entry (${results.micro.heapEntries} entries).`,
    '',
    ...targets,
  ].join('\n');
}

const COLUMNS = [
  'req/s (median)',
  'per round',
  'p50 ms',
  'p99 ms',
  'vs baseline',
  'server CPU µs/req',
  'vs baseline by CPU',
];

function variantRows(results: BenchResults): [string, string[]][] {
  const baseline = rpsOf(results, 'baseline');
  const baselineCpu = cpuOf(results, 'baseline');
  return HTTP_VARIANTS.map((name) => {
    const result = results.variants[name];
    if ('skipped' in result) return [name, [`skipped: ${result.skipped}`, '', '', '', '', '', '']];
    const failures = result.rounds.reduce((sum, r) => sum + r.failures, 0);
    return [
      name,
      [
        Math.round(result.rps).toLocaleString('en-US') + (failures ? ` (${failures} failed!)` : ''),
        result.rounds.map((r) => Math.round(r.rps)).join(' / '),
        result.latencyP50Ms.toFixed(0),
        result.latencyP99Ms.toFixed(0),
        (result.rps / baseline).toFixed(2),
        result.serverCpuMicrosPerRequest.toFixed(0),
        (baselineCpu / result.serverCpuMicrosPerRequest).toFixed(2),
      ],
    ];
  });
}

/** How much of hit's cost any middleware has: hit measured against an empty layer. */
function layerLine(results: BenchResults): string {
  const emptyRps = rpsOf(results, 'empty-layer');
  const hitRps = rpsOf(results, 'hit');
  const emptyCpu = cpuOf(results, 'empty-layer') - cpuOf(results, 'baseline');
  const hitCpu = cpuOf(results, 'hit') - cpuOf(results, 'empty-layer');
  return (
    `empty-layer: one Express middleware that only calls next() → ${(emptyRps / rpsOf(results, 'baseline')).toFixed(2)} of baseline (${signed(emptyCpu)} µs CPU/req); ` +
    `hit / empty-layer → ${(hitRps / emptyRps).toFixed(2)} (${signed(hitCpu)} µs CPU/req for the middleware's own work)`
  );
}

/** jwt-cold, telemetry, fleet and steady-stream, one line each. */
function secondEditionLines(results: BenchResults): string[] {
  const { jwtCold, micro, fleet, steadyStream } = results;
  const mode = (m: BenchResults['jwtCold']['local']) =>
    `${Math.round(m.rps)} req/s, p99 ${m.latencyP99Ms.toFixed(0)} ms, ${m.introspectionCalls} introspection calls${m.failures ? `, ${m.failures} FAILED` : ''}`;
  return [
    `jwt-cold (${jwtCold.tokensPerRound.local} new JWTs per round, ZITADEL ${jwtCold.issuerLatencyMs} ms): local ${mode(jwtCold.local)}; introspect mode (${jwtCold.tokensPerRound.introspect} new kit tokens per round) ${mode(jwtCold.introspect)}`,
    `telemetry (micro, sync hit loop): ${micro.telemetryNoneMicroseconds.toFixed(3)} µs nobody listening, ${micro.telemetrySubscribedMicroseconds.toFixed(3)} µs every channel subscribed${telemetryOffLine(micro)}`,
    'skipped' in fleet
      ? `fleet: skipped (${fleet.skipped})`
      : `fleet (${fleet.replicas} processes, one redis-server): ${fleet.introspectionCalls} introspection calls for ${fleet.tokens} new tokens each sent to every replica at once, p50/p99 ${fleet.latencyP50Ms.toFixed(0)}/${fleet.latencyP99Ms.toFixed(0)} ms${fleet.failures ? `, ${fleet.failures} FAILED` : ''}; evict → gone from the other replicas' memory p50/p99 ${fleet.evictP50Ms.toFixed(1)}/${fleet.evictP99Ms.toFixed(1)} ms, → refused there (one introspection each) ${fleet.evictRefusedP50Ms.toFixed(1)}/${fleet.evictRefusedP99Ms.toFixed(1)} ms; deactivateUser → refused everywhere (webhook) p50/p99/max ${fleet.webhookP50Ms.toFixed(1)}/${fleet.webhookP99Ms.toFixed(1)}/${fleet.webhookMaxMs.toFixed(1)} ms over ${fleet.trials} trials (bound without it: maxTtlSeconds ${fleet.maxTtlSeconds} s)`,
    'skipped' in steadyStream
      ? `steady-stream: skipped (${steadyStream.skipped})`
      : `steady-stream: ${steadyStream.introspectionCalls} calls over ${steadyStream.ttls} TTLs (${steadyStream.callsPerTtl.toFixed(2)} per 2 s TTL, ${steadyStream.callsPerLifetime?.toFixed(2) ?? '?'} per entry lifetime of TTL − refresh-ahead + latency = 1.5 s), p99 ${steadyStream.latencyP99Ms} ms`,
  ];
}

/** The compiled-out comparison (absent from results of before it existed). */
function telemetryOffLine(micro: BenchResults['micro']): string {
  const real = micro.telemetryCompiledInMicroseconds;
  const off = micro.telemetryCompiledOutMicroseconds;
  const control = micro.telemetryControlMicroseconds;
  if (real === undefined || off === undefined || control === undefined) return '';
  return `; nobody listening ${real.toFixed(3)} µs vs telemetry compiled out ${off.toFixed(3)} µs (ratio ${(real / off).toFixed(3)}), vs an identical copy ${control.toFixed(3)} µs (ratio ${(real / control).toFixed(3)}, the noise floor)`;
}

function signed(value: number): string {
  return `${value >= 0 ? '+' : ''}${value.toFixed(0)}`;
}

function verdict(target: TargetVerdict): string {
  return target.met ? 'met' : 'MISSED';
}

function row(cells: string[]): string {
  const widths = [32, 16, 42, 8, 8, 12, 18, 18];
  return cells.map((cell, i) => cell.padEnd(widths[i] ?? 12)).join(' ');
}

if (require.main === module) {
  const file = process.argv[2] ?? `${__dirname}/results.json`;
  console.log(formatMarkdown(JSON.parse(readFileSync(file, 'utf8')) as BenchResults));
}
