import type { ScoreMap } from '@deepmask/pyramid';
import { heatColor } from './colors.js';
import { el, formatNumber } from './dom.js';

const MAX_WIDTH_PX = 240;

/** One small image per scale: the objectness probability of every patch position, 0 dark, 1 bright. */
export function renderHeatmaps(container: HTMLElement, scoreMaps: ScoreMap[]): void {
  container.replaceChildren(
    ...scoreMaps.map((map) => {
      const canvas = el('canvas', { class: 'heatmap', width: map.cols, height: map.rows });
      const pixels = new ImageData(Math.max(1, map.cols), Math.max(1, map.rows));
      let best = 0;
      for (let k = 0; k < map.probabilities.length; k++) {
        const p = map.probabilities[k];
        best = Math.max(best, p);
        const [r, g, b] = heatColor(p);
        pixels.data.set([r, g, b, 255], 4 * k);
      }
      canvas.getContext('2d')!.putImageData(pixels, 0, 0);
      // Cells are cellSizePx apart in the image: this draws every map at the image's size, capped.
      canvas.style.width = `${Math.min(MAX_WIDTH_PX, map.cols * map.cellSizePx[0])}px`;
      canvas.style.imageRendering = 'pixelated';
      const caption = `scale ${formatNumber(map.scale, 3)} · ${map.rows}×${map.cols} · max ${formatNumber(best, 3)}`;
      return el('figure', {}, [canvas, el('figcaption', { text: caption })]);
    }),
  );
}
