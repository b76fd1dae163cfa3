// The template editor's geometry, in template pixels and free of the DOM: overlap checks,
// snapping with the guides to draw, align/distribute for a multi-selection, and where an image
// is calm enough for text. Boxes are {x, y, w, h}.

export const clamp = (value, low, high) => Math.min(high, Math.max(low, value));

/** The pairs of items ([{id, label, box}]) whose boxes share some area. */
export function overlappingPairs(items) {
  const pairs = [];
  for (let i = 0; i < items.length; i += 1) {
    for (let j = i + 1; j < items.length; j += 1) {
      const a = items[i].box;
      const b = items[j].box;
      if (a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h) pairs.push([items[i], items[j]]);
    }
  }
  return pairs;
}

/** The smallest box holding every box of `boxes`. */
export function boundsOf(boxes) {
  const left = Math.min(...boxes.map((b) => b.x));
  const top = Math.min(...boxes.map((b) => b.y));
  const right = Math.max(...boxes.map((b) => b.x + b.w));
  const bottom = Math.max(...boxes.map((b) => b.y + b.h));
  return { x: left, y: top, w: right - left, h: bottom - top };
}

/** The lines a box can snap to: the image's edges and centre, and every other box's. */
export function snapTargets(width, height, others) {
  const xs = [0, width / 2, width];
  const ys = [0, height / 2, height];
  for (const b of others) {
    xs.push(b.x, b.x + b.w / 2, b.x + b.w);
    ys.push(b.y, b.y + b.h / 2, b.y + b.h);
  }
  return { xs, ys };
}

/** The shift (within `threshold`) that puts one of `lines` on one of `targets`, and the target. */
function nearest(lines, targets, threshold) {
  let best = null;
  for (const line of lines) {
    for (const target of targets) {
      const shift = target - line;
      if (Math.abs(shift) <= threshold && (best === null || Math.abs(shift) < Math.abs(best.shift))) best = { shift, at: target };
    }
  }
  return best;
}

/** `box` moved onto the nearest snap lines (edges and centre), and the guides {x: [], y: []}. */
export function snapMove(box, targets, threshold) {
  const sx = nearest([box.x, box.x + box.w / 2, box.x + box.w], targets.xs, threshold);
  const sy = nearest([box.y, box.y + box.h / 2, box.y + box.h], targets.ys, threshold);
  return {
    box: { ...box, x: Math.round(box.x + (sx ? sx.shift : 0)), y: Math.round(box.y + (sy ? sy.shift : 0)) },
    guides: { x: sx ? [sx.at] : [], y: sy ? [sy.at] : [] },
  };
}

/** `box` with the edges a resize from `corner` ("nw", "se"...) moves snapped, and the guides. */
export function snapResize(box, corner, targets, threshold) {
  let left = box.x, top = box.y, right = box.x + box.w, bottom = box.y + box.h;
  const guides = { x: [], y: [] };
  const snapEdge = (value, list, axis) => {
    const hit = nearest([value], list, threshold);
    if (!hit) return value;
    guides[axis].push(hit.at);
    return Math.round(hit.at);
  };
  if (corner.includes("w")) left = Math.min(snapEdge(left, targets.xs, "x"), right - 1);
  if (corner.includes("e")) right = Math.max(snapEdge(right, targets.xs, "x"), left + 1);
  if (corner.includes("n")) top = Math.min(snapEdge(top, targets.ys, "y"), bottom - 1);
  if (corner.includes("s")) bottom = Math.max(snapEdge(bottom, targets.ys, "y"), top + 1);
  return { box: { x: left, y: top, w: right - left, h: bottom - top }, guides };
}

/**
 * New boxes for `boxes` aligned along `edge` ("left", "center", "right", "top", "middle",
 * "bottom"): to each other when there are several, to the image (`width`×`height`) for one.
 */
export function align(boxes, edge, width, height) {
  const frame = boxes.length > 1 ? boundsOf(boxes) : { x: 0, y: 0, w: width, h: height };
  return boxes.map((b) => {
    switch (edge) {
      case "left": return { ...b, x: frame.x };
      case "center": return { ...b, x: Math.round(frame.x + (frame.w - b.w) / 2) };
      case "right": return { ...b, x: frame.x + frame.w - b.w };
      case "top": return { ...b, y: frame.y };
      case "middle": return { ...b, y: Math.round(frame.y + (frame.h - b.h) / 2) };
      case "bottom": return { ...b, y: frame.y + frame.h - b.h };
      default: return b;
    }
  });
}

/** New boxes for `boxes` (three or more) spaced with equal gaps along `axis` ("x" or "y"),
 *  the first and last staying where they are; in the order of the input. */
export function distribute(boxes, axis) {
  const [pos, size] = axis === "x" ? ["x", "w"] : ["y", "h"];
  const order = boxes.map((b, i) => ({ b, i })).sort((p, q) => (p.b[pos] + p.b[size] / 2) - (q.b[pos] + q.b[size] / 2));
  const start = order[0].b[pos];
  const end = Math.max(...boxes.map((b) => b[pos] + b[size]));
  const gap = (end - start - boxes.reduce((sum, b) => sum + b[size], 0)) / (boxes.length - 1);
  const out = [...boxes];
  let cursor = start;
  for (const { b, i } of order) {
    out[i] = { ...b, [pos]: Math.round(cursor) };
    cursor += b[size] + gap;
  }
  return out;
}

/**
 * The top-left corner where a `w`×`h` box sits on the calmest part of an image (the least
 * detail: summed luminance gradients), from `pixels` (ImageData of the image drawn at
 * `gridW`×`gridH`) and the template size. Areas in `avoid` count as busy.
 */
export function calmSpot(pixels, gridW, gridH, width, height, w, h, avoid = []) {
  const sx = gridW / width;
  const sy = gridH / height;
  const lum = new Float32Array(gridW * gridH);
  for (let i = 0; i < lum.length; i += 1) {
    lum[i] = 0.299 * pixels.data[i * 4] + 0.587 * pixels.data[i * 4 + 1] + 0.114 * pixels.data[i * 4 + 2];
  }
  // Detail per cell, then an integral image so each candidate box sums in O(1).
  const sum = new Float64Array((gridW + 1) * (gridH + 1));
  for (let y = 0; y < gridH; y += 1) {
    for (let x = 0; x < gridW; x += 1) {
      const here = lum[y * gridW + x];
      let detail = Math.abs(here - lum[y * gridW + Math.min(x + 1, gridW - 1)]) + Math.abs(here - lum[Math.min(y + 1, gridH - 1) * gridW + x]);
      for (const a of avoid) {
        if (x >= a.x * sx && x < (a.x + a.w) * sx && y >= a.y * sy && y < (a.y + a.h) * sy) detail += 1000;
      }
      sum[(y + 1) * (gridW + 1) + x + 1] = detail + sum[y * (gridW + 1) + x + 1] + sum[(y + 1) * (gridW + 1) + x] - sum[y * (gridW + 1) + x];
    }
  }
  const bw = Math.max(1, Math.round(w * sx));
  const bh = Math.max(1, Math.round(h * sy));
  const margin = Math.round(Math.min(gridW, gridH) * 0.04);
  let best = null;
  for (let y = margin; y + bh <= gridH - margin; y += 1) {
    for (let x = margin; x + bw <= gridW - margin; x += 1) {
      const total = sum[(y + bh) * (gridW + 1) + x + bw] - sum[y * (gridW + 1) + x + bw] - sum[(y + bh) * (gridW + 1) + x] + sum[y * (gridW + 1) + x];
      // Among equally calm places, prefer the one nearer the middle (text there reads naturally).
      const off = Math.hypot(x + bw / 2 - gridW / 2, y + bh / 2 - gridH / 2) / gridW;
      const score = total + off * 0.5;
      if (best === null || score < best.score) best = { score, x, y };
    }
  }
  if (!best) return { x: Math.round((width - w) / 2), y: Math.round((height - h) / 2) };
  return { x: clamp(Math.round(best.x / sx), 0, width - w), y: clamp(Math.round(best.y / sy), 0, height - h) };
}
