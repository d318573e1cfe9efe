/** Small DOM builders. Text always goes through `textContent`: file contents are never parsed as HTML. */

type Attributes = Record<string, string | number | boolean>;

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Attributes = {},
  children: (Node | string)[] = [],
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === 'text') node.textContent = String(value);
    else if (value === true) node.setAttribute(name, '');
    else if (value !== false) node.setAttribute(name, String(value));
  }
  node.append(...children);
  return node;
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const node = document.getElementById(id);
  if (!node) throw new Error(`viewer: element #${id} is missing from the page`);
  return node as T;
}

export function fileInput(id: string, options: { accept?: string; multiple?: boolean; folder?: boolean }) {
  const input = el('input', { id, type: 'file', accept: options.accept ?? '', multiple: !!options.multiple });
  if (options.folder) input.webkitdirectory = true;
  return input;
}

export function labelled(text: string, control: HTMLElement): HTMLLabelElement {
  return el('label', {}, [`${text} `, control]);
}

/** Calls `onFiles` with the files dropped anywhere on `target`, highlighting it while dragging. */
export function acceptDrops(target: HTMLElement, onFiles: (files: File[]) => void): void {
  target.addEventListener('dragover', (event) => {
    event.preventDefault();
    target.classList.add('drop-target');
  });
  target.addEventListener('dragleave', () => target.classList.remove('drop-target'));
  target.addEventListener('drop', (event) => {
    event.preventDefault();
    target.classList.remove('drop-target');
    const files = [...(event.dataTransfer?.files ?? [])];
    if (files.length > 0) onFiles(files);
  });
}

export function formatNumber(value: number, digits = 3): string {
  return Number.isFinite(value) ? value.toFixed(digits) : String(value);
}
