import type { DeepMask } from '@deepmask/model';
import { debugHook } from './debug.js';
import { el, fileInput, labelled } from './dom.js';
import { reportingErrors } from './errors.js';
import { openModelFromFiles, openModelFromUrl, openRememberedModel, rememberModel } from './modelSource.js';

export interface ModelPanel {
  fieldset: HTMLFieldSetElement;
  /** Opens dropped or picked files as a model (model.json + shards) and remembers it. */
  openFiles(files: File[]): Promise<void>;
  restoreRememberedModel(): Promise<void>;
}

/** Opening a model by files or URL, remembering it in IndexedDB; `onModel` gets each model opened. */
export function createModelPanel(onModel: (model: DeepMask) => void): ModelPanel {
  const files = fileInput('model-files', { accept: '.json,.bin', multiple: true });
  const url = el('input', {
    id: 'model-url',
    type: 'text',
    size: 40,
    placeholder: 'runs/demo/model/model.json',
  });
  const openUrl = el('button', { id: 'model-url-open', text: 'Open URL' });
  const status = el('span', { id: 'model-status', class: 'muted', text: 'no model' });
  let current: DeepMask | null = null;

  function use(model: DeepMask, source: string): void {
    current?.dispose();
    current = model;
    status.textContent = `${source} · ${model.config.trunk} trunk, ${model.config.inputSizePx} px patches`;
    debugHook.modelConfig = model.config;
    onModel(model);
  }

  async function openAndRemember(task: () => Promise<DeepMask>, source: string): Promise<void> {
    const opened = await reportingErrors('Opening the model failed', task);
    if (!opened) return;
    use(opened, source);
    await reportingErrors('Remembering the model in IndexedDB failed', () => rememberModel(opened));
  }

  const openFiles = (picked: File[]) =>
    openAndRemember(() => openModelFromFiles(picked), picked.map((file) => file.name).join(' + '));

  files.addEventListener('change', () => {
    const picked = [...(files.files ?? [])];
    if (picked.length > 0) void openFiles(picked);
  });
  openUrl.addEventListener('click', () => void openAndRemember(() => openModelFromUrl(url.value), url.value));

  async function restoreRememberedModel(): Promise<void> {
    const remembered = await reportingErrors('Opening the remembered model failed', openRememberedModel);
    if (remembered) use(remembered, 'last model (IndexedDB)');
  }

  const fieldset = el('fieldset', {}, [
    el('legend', { text: 'Model' }),
    labelled('model.json + shards', files),
    url,
    openUrl,
    status,
  ]);
  return { fieldset, openFiles, restoreRememberedModel };
}
