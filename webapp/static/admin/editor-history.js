// Undo and redo for the template editor: snapshots of the meta taken before each change.
//
// `record(tag)` is called before a change. Changes with the same tag in quick succession
// (typing in one field, holding an arrow key) are one step, as in any design tool.

const LIMIT = 200;
const COALESCE_MS = 1200;

export class History {
  constructor() {
    this.past = [];
    this.future = [];
    this.tag = null;
    this.at = 0;
  }

  /** Remembers `snapshot` (the meta before a change) unless it continues the last `tag`. */
  record(snapshot, tag = null) {
    const now = Date.now();
    if (tag !== null && tag === this.tag && now - this.at < COALESCE_MS) {
      this.at = now;
      return;
    }
    this.past.push(snapshot);
    if (this.past.length > LIMIT) this.past.shift();
    this.future = [];
    this.tag = tag;
    this.at = now;
  }

  /** The snapshot to go back to from `current`, or null when there is none. */
  undo(current) {
    if (!this.past.length) return null;
    this.future.push(current);
    this.tag = null;
    return this.past.pop();
  }

  /** The snapshot to go forward to from `current`, or null when there is none. */
  redo(current) {
    if (!this.future.length) return null;
    this.past.push(current);
    this.tag = null;
    return this.future.pop();
  }

  /** Forgets every step (after a restore, when the steps no longer apply). */
  clear() {
    this.past = [];
    this.future = [];
    this.tag = null;
  }

  get canUndo() { return this.past.length > 0; }

  get canRedo() { return this.future.length > 0; }
}
