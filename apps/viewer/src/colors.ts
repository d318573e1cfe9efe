/** Distinct colours for the k-th proposal or category: hues a golden angle apart. */
export function colorOf(k: number): [number, number, number] {
  const hue = (k * 137.508) % 360;
  return hslToRgb(hue, 0.75, 0.5);
}

export function cssColor([r, g, b]: [number, number, number]): string {
  return `rgb(${r}, ${g}, ${b})`;
}

function hslToRgb(hue: number, saturation: number, lightness: number): [number, number, number] {
  const chroma = (1 - Math.abs(2 * lightness - 1)) * saturation;
  const channel = (n: number) => {
    const k = (n + hue / 30) % 12;
    return Math.round(255 * (lightness - (chroma / 2) * Math.max(-1, Math.min(k - 3, 9 - k, 1))));
  };
  return [channel(0), channel(8), channel(4)];
}

/** Viridis-like ramp for score heat maps, `t` in 0..1. */
export function heatColor(t: number): [number, number, number] {
  const clamped = Math.min(1, Math.max(0, t));
  return [
    Math.round(255 * clamped ** 0.8),
    Math.round(220 * Math.sin(Math.PI * clamped * 0.9)),
    Math.round(180 * (1 - clamped)),
  ];
}
