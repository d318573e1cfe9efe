#!/usr/bin/env node
import { main } from './main.js';

const code = await main(process.argv.slice(2));
// Flushed, then an explicit exit: the wasm backend's pthread workers keep Node's event loop alive after
// the work is done. A write's callback runs once it and the writes queued before it are out.
await Promise.all([process.stdout, process.stderr].map((s) => new Promise((done) => s.write('', done))));
process.exit(code);
