import { describe, expect, it } from 'vitest';
import { parseMetrics } from '../src/trainingView.js';

describe('parseMetrics', () => {
  it('reads one record per non-empty line', () => {
    const records = parseMetrics(
      '{"step":1,"loss":0.5}\n\n{"step":2,"eval":{"AR@100":0.1}}\n',
      'metrics.jsonl',
    );
    expect(records).toEqual([
      { step: 1, loss: 0.5 },
      { step: 2, eval: { 'AR@100': 0.1 } },
    ]);
  });

  it('names the file and line of a record that is not JSON or has no step', () => {
    expect(() => parseMetrics('{"step":1}\n{oops', 'run/metrics.jsonl')).toThrow(
      /run\/metrics\.jsonl line 2 is not JSON/,
    );
    expect(() => parseMetrics('{"loss":1}', 'm.jsonl')).toThrow('m.jsonl line 1 has no numeric "step" field');
    expect(() => parseMetrics('\n', 'm.jsonl')).toThrow('m.jsonl holds no metrics records');
  });
});
