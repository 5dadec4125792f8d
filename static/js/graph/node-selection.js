// Which node the Inspector shows, and whether it follows the playhead: what graph-frame.js reads
// and writes (`selected`, `follow`). The page's GraphPage (page-state.js) builds on it; the
// notebook widget uses it alone (an editor, menu, address or share link has no place in a cell).
import { invalidate } from '../shared/frame-loop.js';

export class NodeSelection {
  constructor(inspector) {
    this.inspector = inspector;
    this.selected = null; // node id shown in the Inspector
    this.follow = true; // the Inspector follows the event at the playhead
  }

  /** `pin`: a click or key chose it, so the Inspector stops following the animation. */
  select(id, { pin = false } = {}) {
    this.selected = id;
    if (pin && this.follow) {
      this.follow = false;
      this.inspector.setFollow(false);
    }
    invalidate();
  }

  setFollow(on) {
    this.follow = on;
    invalidate();
  }
}
