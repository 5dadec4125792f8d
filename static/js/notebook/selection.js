// Which node the widget's Inspector shows, and whether it follows the playhead: the part of the
// page's GraphPage (graph/page-state.js) that graph-frame.js reads and writes (`selected`,
// `follow`). The rest of GraphPage (editor, menu, address, share link) has no place in a cell.
import { invalidate } from '../shared/frame-loop.js';

export class WidgetSelection {
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
