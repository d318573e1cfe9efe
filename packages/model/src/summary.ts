import type { DeepMaskConfig } from './config.js';
import type { SummaryRow } from './layers.js';

export type { SummaryRow };

export interface ModelSummary {
  config: DeepMaskConfig;
  layers: SummaryRow[];
  /** Trainable parameters per part, as the official code prints them. */
  params: { trunk: number; mask: number; score: number; total: number };
  /** Frozen values (batch norm affines), saved with the weights but not trained. */
  frozenValues: number;
}

export function summarize(config: DeepMaskConfig, layers: SummaryRow[]): ModelSummary {
  const sum = (part: string) =>
    layers.filter((row) => row.part === part).reduce((n, row) => n + row.params, 0);
  const params = { trunk: sum('trunk'), mask: sum('mask'), score: sum('score'), total: 0 };
  params.total = params.trunk + params.mask + params.score;
  const frozenValues = layers.reduce((n, row) => n + row.frozenValues, 0);
  return { config, layers, params, frozenValues };
}

const count = (n: number) => n.toLocaleString('en-US');

/** A layer table and per-part parameter counts. */
export function formatSummary(summary: ModelSummary): string {
  const { config } = summary;
  const header = ['layer', 'kind', 'output (one patch)', 'params'];
  const body = summary.layers.map((row) => [
    row.name,
    row.kind,
    row.outputShape.join('x'),
    count(row.params),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((cells) => cells[i].length)));
  const line = (cells: string[]) =>
    cells.map((cell, i) => (i === 3 ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join('  ');
  const { params } = summary;
  return [
    `DeepMask (${config.trunk} trunk, ${config.head} heads): input ${config.inputSizePx}x${config.inputSizePx}x3, ` +
      `mask ${config.maskSizePx}x${config.maskSizePx}`,
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...body.map(line),
    `| number of parameters trunk: ${count(params.trunk)}`,
    `| number of parameters mask branch: ${count(params.mask)}`,
    `| number of parameters score branch: ${count(params.score)}`,
    `| number of parameters total: ${count(params.total)}`,
    ...(summary.frozenValues > 0
      ? [`| frozen batch norm values (not trained): ${count(summary.frozenValues)}`]
      : []),
  ].join('\n');
}
