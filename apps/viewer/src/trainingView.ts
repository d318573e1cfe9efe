import { el, fileInput, labelled } from './dom.js';
import { reportingErrors } from './errors.js';
import { linePlot, type Series } from './plot.js';

/**
 * Plots of a run's `metrics.jsonl`: one object per line, with a `step`; every numeric field becomes a
 * series, losses (fields naming a loss) in one plot and everything else (AR, IoU, accuracy) by field.
 */
export function createTrainingView(): HTMLElement {
  const input = fileInput('metrics-file', { accept: '.jsonl,.json,.txt' });
  const status = el('span', {
    id: 'metrics-status',
    class: 'muted',
    text: 'open a run folder’s metrics.jsonl',
  });
  const plots = el('div', { id: 'metrics-plots', class: 'grid' });
  input.addEventListener('change', async () => {
    const file = input.files?.[0];
    if (!file) return;
    const records = await reportingErrors('Reading the metrics failed', async () =>
      parseMetrics(await file.text(), file.name),
    );
    if (!records) return;
    const series = seriesByField(records);
    const losses = series.filter((s) => /loss/i.test(s.name));
    const others = series.filter((s) => !/loss/i.test(s.name));
    plots.replaceChildren(
      ...(losses.length > 0 ? [linePlot(losses, { title: 'loss', xLabel: 'step', yLabel: 'loss' })] : []),
      ...others.map((s) => linePlot([s], { title: s.name, xLabel: 'step', yLabel: s.name })),
    );
    status.textContent = `${file.name}: ${records.length} records, ${series.length} series`;
  });
  return el('section', { id: 'view-training' }, [
    el('fieldset', {}, [el('legend', { text: 'Run metrics' }), labelled('metrics.jsonl', input), status]),
    plots,
  ]);
}

type MetricsRecord = Record<string, unknown> & { step: number };

export function parseMetrics(text: string, fileName: string): MetricsRecord[] {
  const records: MetricsRecord[] = [];
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch (error) {
      throw new Error(`${fileName} line ${index + 1} is not JSON (${(error as Error).message})`);
    }
    const step = (record as { step?: unknown } | null)?.step;
    if (typeof step !== 'number') {
      throw new Error(`${fileName} line ${index + 1} has no numeric "step" field`);
    }
    records.push(record as MetricsRecord);
  });
  if (records.length === 0) throw new Error(`${fileName} holds no metrics records`);
  return records;
}

/** Numeric fields, flattened one level deep (`eval.AR@100`), in first-seen order. */
function seriesByField(records: MetricsRecord[]): Series[] {
  const byName = new Map<string, [number, number][]>();
  for (const record of records) {
    for (const [name, value] of flatten(record)) {
      if (name === 'step') continue;
      if (!byName.has(name)) byName.set(name, []);
      byName.get(name)!.push([record.step, value]);
    }
  }
  return [...byName].map(([name, points]) => ({ name, points }));
}

function* flatten(record: Record<string, unknown>, prefix = ''): Generator<[string, number]> {
  for (const [key, value] of Object.entries(record)) {
    if (typeof value === 'number' && Number.isFinite(value)) yield [prefix + key, value];
    else if (value && typeof value === 'object' && !Array.isArray(value) && prefix === '') {
      yield* flatten(value as Record<string, unknown>, `${key}.`);
    }
  }
}
