import type { Proposal } from '@deepmask/pyramid';
import { colorOf, cssColor } from './colors.js';
import { el, formatNumber } from './dom.js';

/** The ranked proposals as rows; hovering a row isolates it, clicking pins it until clicked again. */
export class ProposalList {
  private pinned: number | null = null;
  private hovered: number | null = null;

  constructor(
    private readonly list: HTMLElement,
    private readonly details: HTMLElement,
    private readonly onIsolate: (rank: number | null) => void,
  ) {}

  get isolated(): number | null {
    return this.hovered ?? this.pinned;
  }

  show(proposals: Proposal[], count: number): void {
    this.pinned = this.pinned !== null && this.pinned < count ? this.pinned : null;
    this.hovered = null;
    this.list.replaceChildren(
      ...proposals.slice(0, count).map((proposal, rank) => {
        const row = el('div', { 'data-rank': rank }, [
          el('span', { class: 'swatch', style: `background:${cssColor(colorOf(rank))}` }),
          el('span', { text: `#${rank + 1}` }),
          el('span', { text: formatNumber(proposal.score, 3) }),
        ]);
        row.addEventListener('mouseenter', () => this.hover(rank));
        row.addEventListener('mouseleave', () => this.hover(null));
        row.addEventListener('click', () => this.pin(rank));
        return row;
      }),
    );
    this.refresh(proposals);
  }

  hover(rank: number | null): void {
    this.hovered = rank;
    this.onIsolate(this.isolated);
  }

  pin(rank: number): void {
    this.pinned = this.pinned === rank ? null : rank;
    this.onIsolate(this.isolated);
  }

  /** Marks the isolated row and describes its proposal. */
  refresh(proposals: Proposal[]): void {
    const rank = this.isolated;
    for (const row of this.list.children) {
      row.classList.toggle('selected', Number((row as HTMLElement).dataset.rank) === rank);
    }
    if (rank === null || !proposals[rank]) {
      this.details.textContent = 'Hover or click a proposal (in the list or on the image) to isolate it.';
      return;
    }
    const p = proposals[rank];
    const box = p.bbox.map((v) => Math.round(v)).join(', ');
    this.details.textContent =
      `#${rank + 1}  score ${formatNumber(p.score, 4)}  scale ${formatNumber(p.scale, 3)}\n` +
      `box [x, y, w, h] = [${box}]\ncentre (${Math.round(p.x)}, ${Math.round(p.y)})`;
  }
}
