// The layered layout of the graph view, pure (no DOM): deployment phases are the columns (x), the
// order inside a column (y) comes from barycentre sweeps that pull a node towards the rows of its
// neighbours in the columns already placed, which removes most edge crossings (Sugiyama's
// method, without dummy nodes: edges are drawn as curves).

export const NODE_WIDTH = 168;
export const NODE_HEIGHT = 36;
export const COLUMN_GAP = 90;
export const ROW_GAP = 14;
export const HEAD = 34;

/**
 * nodes: [{ id, phase }], edges: [{ from, to }] (from depends on to).
 * Returns { positions: Map(id → { x, y, column, row }), columns: [{ phase, x, count }], width, height }.
 */
export function layered(nodes, edges, sweeps = 6) {
  const phases = [...new Set(nodes.map((n) => n.phase))].sort((a, b) => a - b);
  const columnOf = new Map(phases.map((p, i) => [p, i]));
  const columns = phases.map(() => []);
  for (const node of [...nodes].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
    columns[columnOf.get(node.phase)].push(node.id);
  }
  const column = new Map();
  columns.forEach((ids, c) => ids.forEach((id) => column.set(id, c)));
  const neighbours = new Map(nodes.map((n) => [n.id, []]));
  for (const e of edges) {
    if (!neighbours.has(e.from) || !neighbours.has(e.to) || e.from === e.to) continue;
    neighbours.get(e.from).push(e.to);
    neighbours.get(e.to).push(e.from);
  }
  const row = new Map();
  const number = () => columns.forEach((ids) => ids.forEach((id, i) => row.set(id, i)));
  number();
  const order = (c, side) => {
    const ids = columns[c];
    const score = new Map();
    for (const id of ids) {
      const rows = neighbours.get(id)
        .filter((n) => (side < 0 ? column.get(n) < c : column.get(n) > c))
        .map((n) => row.get(n));
      score.set(id, rows.length ? rows.reduce((a, b) => a + b, 0) / rows.length : row.get(id));
    }
    // Stable: ties keep their current order.
    ids.sort((a, b) => score.get(a) - score.get(b) || row.get(a) - row.get(b));
    ids.forEach((id, i) => row.set(id, i));
  };
  for (let sweep = 0; sweep < sweeps; sweep++) {
    if (sweep % 2 === 0) for (let c = 1; c < columns.length; c++) order(c, -1);
    else for (let c = columns.length - 2; c >= 0; c--) order(c, +1);
  }
  const tallest = Math.max(1, ...columns.map((ids) => ids.length));
  const height = HEAD + tallest * (NODE_HEIGHT + ROW_GAP) + ROW_GAP;
  const positions = new Map();
  columns.forEach((ids, c) => {
    // Centre short columns against the tallest, so edges stay short.
    const offset = ((tallest - ids.length) * (NODE_HEIGHT + ROW_GAP)) / 2;
    ids.forEach((id, r) => positions.set(id, {
      x: 20 + c * (NODE_WIDTH + COLUMN_GAP),
      y: HEAD + ROW_GAP + offset + r * (NODE_HEIGHT + ROW_GAP),
      column: c,
      row: r,
    }));
  });
  return {
    positions,
    columns: phases.map((phase, c) => ({ phase, x: 20 + c * (NODE_WIDTH + COLUMN_GAP), count: columns[c].length })),
    width: 40 + phases.length * (NODE_WIDTH + COLUMN_GAP) - COLUMN_GAP,
    height,
  };
}

/** Edges crossing between adjacent columns (to measure the ordering). */
export function crossings(layout, edges) {
  const spans = edges
    .map((e) => [layout.positions.get(e.from), layout.positions.get(e.to)])
    .filter(([a, b]) => a && b && Math.abs(a.column - b.column) === 1)
    .map(([a, b]) => (a.column < b.column ? [a, b] : [b, a]));
  let count = 0;
  for (let i = 0; i < spans.length; i++) {
    for (let j = i + 1; j < spans.length; j++) {
      const [a1, b1] = spans[i], [a2, b2] = spans[j];
      if (a1.column !== a2.column) continue;
      if ((a1.row - a2.row) * (b1.row - b2.row) < 0) count++;
    }
  }
  return count;
}

/**
 * The nodes within `depth` steps of `focus` (both directions), the focus first, then by
 * distance and degree; at most `cap`. Returns { ids: Set, total } (total before the cap).
 */
export function neighbourhood(focus, edges, depth, cap, degree = () => 0) {
  const adjacent = new Map();
  const link = (a, b) => {
    if (!adjacent.has(a)) adjacent.set(a, []);
    adjacent.get(a).push(b);
  };
  for (const e of edges) {
    link(e.from, e.to);
    link(e.to, e.from);
  }
  const distance = new Map([[focus, 0]]);
  let frontier = [focus];
  for (let d = 1; d <= depth; d++) {
    const next = [];
    for (const id of frontier) {
      for (const n of adjacent.get(id) || []) {
        if (!distance.has(n)) {
          distance.set(n, d);
          next.push(n);
        }
      }
    }
    frontier = next;
  }
  const ranked = [...distance.keys()].sort((a, b) =>
    distance.get(a) - distance.get(b) || degree(b) - degree(a) || (a < b ? -1 : 1));
  return { ids: new Set(ranked.slice(0, cap)), total: ranked.length };
}
