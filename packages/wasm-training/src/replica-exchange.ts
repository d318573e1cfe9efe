/**
 * The gradient exchange of data-parallel replicas, one per worker thread, over one SharedArrayBuffer:
 * each replica copies its gradients into its own slot and its loss beside them, waits for the others
 * (`contribute`), reads their slots (`slot`), and says when it is done reading (`release`) so that no
 * slot is overwritten while another replica still reads it.
 */

/** Control words: replicas arrived at the barrier, the barrier's generation, and the abort flag. */
const ARRIVED = 0;
const GENERATION = 1;
const ABORTED = 2;
const CONTROL_BYTES = 16;

/** How long a replica waits at a barrier for the others before it gives up. */
const BARRIER_TIMEOUT_MS = 10 * 60_000;
/** Wakes a waiting replica this often to look at the abort flag. */
const POLL_MS = 1000;

export class ReplicaAbortedError extends Error {}

export interface ExchangeLayout {
  /** Replicas taking part. */
  replicas: number;
  /** Float32 values each replica contributes (its gradients, flattened in variable order). */
  values: number;
}

/** Bytes of the SharedArrayBuffer that `ReplicaExchange` needs for `layout`. */
export function exchangeBytes({ replicas, values }: ExchangeLayout): number {
  return CONTROL_BYTES + 8 * replicas + 4 * values * replicas;
}

/** Aborts every replica waiting on (or later reaching) a barrier of `buffer`: a replica failed. */
export function abortExchange(buffer: SharedArrayBuffer): void {
  const control = new Int32Array(buffer, 0, CONTROL_BYTES / 4);
  Atomics.store(control, ABORTED, 1);
  Atomics.notify(control, GENERATION);
}

export class ReplicaExchange {
  private readonly control: Int32Array;
  private readonly losses: Float64Array;
  private readonly slots: Float32Array[];

  constructor(
    buffer: SharedArrayBuffer,
    private readonly rank: number,
    private readonly layout: ExchangeLayout,
  ) {
    const { replicas, values } = layout;
    if (buffer.byteLength < exchangeBytes(layout)) {
      throw new Error(
        `ReplicaExchange: the buffer has ${buffer.byteLength} bytes, ${exchangeBytes(layout)} needed for ` +
          `${replicas} replicas of ${values} values`,
      );
    }
    if (!(Number.isInteger(rank) && rank >= 0 && rank < replicas)) {
      throw new Error(`ReplicaExchange: rank ${rank} is not in [0, ${replicas})`);
    }
    this.control = new Int32Array(buffer, 0, CONTROL_BYTES / 4);
    this.losses = new Float64Array(buffer, CONTROL_BYTES, replicas);
    const floats = CONTROL_BYTES + 8 * replicas;
    this.slots = Array.from(
      { length: replicas },
      (_, r) => new Float32Array(buffer, floats + 4 * values * r, values),
    );
  }

  /**
   * Copies the gradients (views in variable order, `values` in all) into this replica's slot and its loss
   * beside them, then waits for every replica's. Returns every replica's loss.
   */
  contribute(gradients: Float32Array[], loss: number): number[] {
    const slot = this.slots[this.rank];
    let offset = 0;
    for (const gradient of gradients) {
      slot.set(gradient, offset);
      offset += gradient.length;
    }
    if (offset !== this.layout.values) {
      throw new Error(`ReplicaExchange: ${offset} gradient values given, ${this.layout.values} expected`);
    }
    this.losses[this.rank] = loss;
    this.barrier();
    return Array.from(this.losses);
  }

  /** Replica `rank`'s contribution, valid from `contribute` until `release`. */
  slot(rank: number): Float32Array {
    return this.slots[rank];
  }

  /** Waits until every replica is done reading the others' slots. */
  release(): void {
    this.barrier();
  }

  /** Waits until every replica has called it as often as this one. */
  private barrier(): void {
    const control = this.control;
    const generation = Atomics.load(control, GENERATION);
    if (Atomics.add(control, ARRIVED, 1) === this.layout.replicas - 1) {
      Atomics.store(control, ARRIVED, 0);
      Atomics.add(control, GENERATION, 1);
      Atomics.notify(control, GENERATION);
      return;
    }
    const deadline = Date.now() + BARRIER_TIMEOUT_MS;
    while (Atomics.load(control, GENERATION) === generation) {
      if (Atomics.load(control, ABORTED) !== 0) throw new ReplicaAbortedError('another replica failed');
      if (Date.now() > deadline) {
        throw new Error(
          `replica ${this.rank}: the other replicas did not reach the barrier in ${BARRIER_TIMEOUT_MS / 60_000} min`,
        );
      }
      Atomics.wait(control, GENERATION, generation, POLL_MS);
    }
  }
}
