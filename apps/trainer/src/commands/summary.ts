import { createDeepMask, defaultConfig, formatSummary, type TrunkName } from '@deepmask/model';
import { type BackendName, selectBackend } from '../backend.js';
import type { CommandIo } from '../main.js';
import type { FlagValues } from '../options.js';

export async function summaryCommand(
  values: FlagValues,
  _positionals: string[],
  io: CommandIo,
): Promise<number> {
  await selectBackend(values.backend as BackendName);
  const input = values.input as number | undefined;
  const config = defaultConfig(values.trunk as TrunkName, input === undefined ? {} : { inputSizePx: input });
  const model = createDeepMask(config);
  io.stdout.write(`${formatSummary(model.summary())}\n`);
  model.dispose();
  return 0;
}
