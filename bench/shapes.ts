/**
 * Seeded DAG shapes shared by every runner in the benchmarks. A shape lists
 * its nodes in topological order, each with the indices of its parents, so
 * the same graph can be built with asyncflow, plain promises, p-graph and
 * async.auto.
 */
export interface Shape {
  readonly name: string;
  readonly size: number;
  /** parents[i]: indices (< i) of node i's dependencies */
  readonly parents: readonly (readonly number[])[];
}

/** mulberry32: a small, fast, seeded PRNG, so every run builds the same graph. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const none: readonly number[] = [];

export function independent(n: number): Shape {
  return { name: `independent ${n}`, size: n, parents: new Array<readonly number[]>(n).fill(none) };
}

export function chain(length: number): Shape {
  return { name: `chain ${length}`, size: length, parents: Array.from({ length }, (_, i) => (i === 0 ? none : [i - 1])) };
}

/** One root, `width` children of it, one sink over all children. */
export function fanOutIn(width: number): Shape {
  const children = Array.from({ length: width }, () => [0]);
  return { name: `fan-out/fan-in ${width}`, size: width + 2, parents: [none, ...children, Array.from({ length: width }, (_, i) => i + 1)] };
}

/** `layers` x `width` nodes; each node past the first layer has `k` distinct random parents in the layer above. */
export function layered(layers: number, width: number, k = 2, seed = 42): Shape {
  const rand = prng(seed);
  const parents: number[][] = [];
  for (let l = 0; l < layers; l++) {
    for (let w = 0; w < width; w++) {
      if (l === 0) {
        parents.push([]);
        continue;
      }
      const picked = new Set<number>();
      while (picked.size < Math.min(k, width)) picked.add((l - 1) * width + Math.floor(rand() * width));
      parents.push([...picked]);
    }
  }
  return { name: `layered ${layers}x${width}`, size: layers * width, parents };
}
