import type { Rle } from '@deepmask/coco';

/** What the page exposes to tests and the console as `window.__deepmask`: plain data, no tensors. */
export interface DebugHook {
  backend: { name: string; detail: string; fallbackReason: string } | null;
  modelConfig: unknown;
  image: { name: string; width: number; height: number } | null;
  /** The last pyramid run: every kept proposal, best first. */
  result: {
    proposals: { score: number; bbox: number[]; scale: number; x: number; y: number }[];
    timings: Record<string, number>;
    scoreMapScales: number[];
  } | null;
  display: { count: number; maskThreshold: number; isolated: number | null };
  /** The masks drawn now, best first, as COCO RLEs with plain-array counts. */
  shownMasks: () => { size: [number, number]; counts: number[] }[];
  runs: number;
  /** The last evaluation: AR@N and the recall curves (at the largest budget for IoU). */
  evaluation?: {
    extra: Record<string, number>;
    recallByIou: [number, number][];
    recallByProposals: [number, number][];
  };
}

export const debugHook: DebugHook = {
  backend: null,
  modelConfig: null,
  image: null,
  result: null,
  display: { count: 0, maskThreshold: 0, isolated: null },
  shownMasks: () => [],
  runs: 0,
};

export function plainRle(rle: Rle): { size: [number, number]; counts: number[] } {
  return { size: [rle.size[0], rle.size[1]], counts: [...rle.counts] };
}

declare global {
  interface Window {
    __deepmask: DebugHook;
  }
}

window.__deepmask = debugHook;
