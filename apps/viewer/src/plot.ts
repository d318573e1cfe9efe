import { colorOf, cssColor } from './colors.js';
import { el, formatNumber } from './dom.js';

export interface Series {
  name: string;
  points: [number, number][];
}

export interface PlotOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  /** Fixed y range, e.g. [0, 1] for recall; otherwise fitted to the data. */
  yRange?: [number, number];
  logX?: boolean;
}

const WIDTH = 420;
const HEIGHT = 260;
const MARGIN = { left: 52, right: 12, top: 24, bottom: 36 };

/** A line plot on a canvas, with a text legend beside it (series names are shown as text). */
export function linePlot(series: Series[], options: PlotOptions): HTMLElement {
  const canvas = el('canvas', { class: 'plot', width: WIDTH, height: HEIGHT, 'data-title': options.title });
  const context = canvas.getContext('2d')!;
  const all = series.flatMap((s) => s.points);
  const tx = options.logX ? (x: number) => Math.log10(Math.max(x, 1e-12)) : (x: number) => x;
  const [x0, x1] = extent(all.map(([x]) => tx(x)));
  const [y0, y1] = options.yRange ?? extent(all.map(([, y]) => y));
  const px = (x: number) =>
    MARGIN.left + ((tx(x) - x0) / (x1 - x0 || 1)) * (WIDTH - MARGIN.left - MARGIN.right);
  const py = (y: number) =>
    HEIGHT - MARGIN.bottom - ((y - y0) / (y1 - y0 || 1)) * (HEIGHT - MARGIN.top - MARGIN.bottom);

  context.fillStyle = '#fff';
  context.fillRect(0, 0, WIDTH, HEIGHT);
  context.strokeStyle = '#999';
  context.strokeRect(
    MARGIN.left,
    MARGIN.top,
    WIDTH - MARGIN.left - MARGIN.right,
    HEIGHT - MARGIN.top - MARGIN.bottom,
  );
  context.fillStyle = '#333';
  context.font = '12px sans-serif';
  context.fillText(options.title, MARGIN.left, 16);
  context.fillText(options.xLabel, WIDTH / 2 - 20, HEIGHT - 6);
  context.fillText(formatNumber(y1, 3), 4, MARGIN.top + 4);
  context.fillText(formatNumber(y0, 3), 4, HEIGHT - MARGIN.bottom);
  const xMin = options.logX ? 10 ** x0 : x0;
  const xMax = options.logX ? 10 ** x1 : x1;
  context.fillText(formatNumber(xMin, 2), MARGIN.left, HEIGHT - MARGIN.bottom + 14);
  context.fillText(formatNumber(xMax, 2), WIDTH - MARGIN.right - 40, HEIGHT - MARGIN.bottom + 14);
  context.save();
  context.translate(12, HEIGHT / 2 + 20);
  context.rotate(-Math.PI / 2);
  context.fillText(options.yLabel, 0, 0);
  context.restore();

  series.forEach((s, k) => {
    context.strokeStyle = cssColor(colorOf(k));
    context.fillStyle = context.strokeStyle;
    context.lineWidth = 1.5;
    context.beginPath();
    for (const [i, [x, y]] of s.points.entries()) {
      if (i === 0) context.moveTo(px(x), py(y));
      else context.lineTo(px(x), py(y));
    }
    context.stroke();
    if (s.points.length < 40) for (const [x, y] of s.points) context.fillRect(px(x) - 2, py(y) - 2, 4, 4);
  });
  const legend = el(
    'ul',
    { class: 'legend' },
    series.map((s, k) =>
      el('li', {}, [
        el('span', { class: 'swatch', style: `background:${cssColor(colorOf(k))}` }),
        ` ${s.name}`,
      ]),
    ),
  );
  return el('figure', { class: 'plot-figure' }, [canvas, legend]);
}

function extent(values: number[]): [number, number] {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return [0, 1];
  const low = Math.min(...finite);
  const high = Math.max(...finite);
  return low === high ? [low - 0.5, high + 0.5] : [low, high];
}
