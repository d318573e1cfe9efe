import { it } from 'vitest';
import { main } from '../src/main.js';

it('demo', async () => {
  const args = (process.env.DEMO_ARGS ?? '').split(' ').filter(Boolean);
  console.log('exit', await main(['demo', ...args]));
}, 900_000);
