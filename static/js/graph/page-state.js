// What the Graph tab shows, from one place: which graph is on screen and where it came from (its
// source text, in the editor), the one message about what went wrong, the selection, and the
// shared-graph bar. Every way a graph arrives — the example menu, an upload, the editor's Load,
// a link, the Training tab giving the view back — goes through here or through the controller's
// onGraph, so the title, editor, menu, address, share link and bar always describe that graph.
import { getSource, uploadFile, uploadGraph, copySharedGraph } from '../shared/api.js';
import { clearPlace, graphFromUrl, placeFromUrl, setGraph } from '../shared/url-state.js';
import { problemLines } from './banner.js';
import { label } from './graph-model.js';
import { thousands } from '../shared/numbers.js';
import { invalidate } from '../shared/frame-loop.js';
import { NodeSelection } from './node-selection.js';

const SHARED = 'shared:';

export class GraphPage extends NodeSelection {
  /** parts: {editor, banner, title, menu (the example select), sharedBar: {root, copy}, shareLink, inspector,
   * notes (LoadNotes: what the graph's file had that was ignored)} */
  constructor(parts) {
    super(parts.inspector);
    Object.assign(this, parts);
    this.controller = null;
    this.training = null;
    this.busy = 0;
    this.controllerBusy = false;
    this.sourceFor = null; // the ref whose source the editor holds (or is fetching)
    parts.sharedBar.copy.addEventListener('click', () => this.copyShared());
  }

  attach({ controller, training }) {
    this.controller = controller;
    this.training = training;
  }

  // -- what is busy: tests and the property test wait until nothing is ---------------------------
  setControllerBusy(busy) {
    this.controllerBusy = busy;
    this._busyChanged();
  }

  async _work(job) {
    this.busy++;
    this._busyChanged();
    try {
      return await job();
    } finally {
      this.busy--;
      this._busyChanged();
    }
  }

  _busyChanged() {
    document.body.dataset.busy = String(this.busy > 0 || this.controllerBusy);
  }

  get graphName() {
    const meta = this.shownMeta;
    return meta ? (meta.name || meta.ref) : null;
  }

  // -- selection: select() and setFollow() are NodeSelection's ------------------------------------
  savePlace() {
    const entry = this.controller.views.entry;
    return { selected: this.selected, follow: this.follow, block: entry && entry.kind === 'block' ? entry.title : null };
  }

  restorePlace(place) {
    if (place.selected != null && this.controller.graph && place.selected < this.controller.graph.n) this.selected = place.selected;
    if (place.follow != null) {
      this.follow = place.follow;
      this.inspector.setFollow(place.follow);
    }
    invalidate();
  }

  // -- what went wrong ---------------------------------------------------------------------------
  /** The controller's report: null (a trace succeeded) clears the message; an error replaces it. */
  notify(error, { context = '', ref = '', meta = {} } = {}) {
    if (!error) {
      this.banner.clear();
      return;
    }
    const still = this.graphName ? `The graph on screen is still ${this.graphName}.` : '';
    if (context === 'trace') {
      const shown = this.controller && this.controller.state;
      this.banner.show([`Could not compute ${this.graphName || 'the graph'}: ${error.message}`, ...problemLines(error),
        shown ? 'The graph shows the last values that worked.' : 'Nothing to show until the values are in the domain: change them under "Inputs — what if?".']);
      return;
    }
    const what = meta.file || (meta.source && meta.source.name) || ref;
    if (/^not found/.test(error.message) && ref.startsWith(SHARED)) {
      this.banner.show([`This share link does not work: ${error.message.replace(/^not found: /, '')} (it was revoked, or mistyped).`,
        'Ask whoever sent it for a new one.', still]);
    } else if (/^not found/.test(error.message) && !ref.includes(':')) {
      this.banner.show([`There is no graph ${ref} in your workspace: an upload belongs to the browser that uploaded it.`,
        'To show a graph to someone else, open it where it was uploaded and press Share: Share makes a link that works anywhere.',
        still]);
    } else {
      this.banner.show([`Could not load ${what}: ${error.message}`, ...problemLines(error), still]);
    }
    if (!this.controller || !this.controller.graph) {
      this.editor.clearSource('No graph is on screen: pick an example, upload a file, or type an expression and press Load.');
      this.title.textContent = 'No graph';
    }
  }

  // -- a graph arrived -----------------------------------------------------------------------------
  /** The controller shows `graph` (meta: {ref, name, format, source?, file?}). */
  graphShown(graph, meta) {
    this.shownMeta = meta;
    if (this.notes) this.notes.show(meta.notes || []);
    this.selected = graph.outputs[0] ?? null;
    this.title.textContent = `${meta.file || meta.name || ''} · ${thousands(graph.n)} nodes`;
    document.body.dataset.graph = meta.ref;
    document.body.dataset.nodes = String(graph.n);
    setGraph(meta.ref);
    const option = Array.from(this.menu.options).find((o) => o.value === meta.ref);
    this.menu.value = option ? meta.ref : '';
    if (this.training) this.training.graphLoaded(meta);
    this.shareLink.graphLoaded(meta.ref);
    const shared = meta.ref.startsWith(SHARED);
    this.sharedBar.root.hidden = !shared;
    this.editor.setReadOnly(shared);
    // The Training tab borrows the view for its network; the editor stays Graph mode's.
    if (!(this.training && this.training.active && this.editor.source)) this._showSource(meta);
  }

  _showSource(meta) {
    const ref = meta.ref;
    // Already this graph's (coming back from the Training tab): keep it, with any edit in it.
    if (!meta.source && this.editor.source && this.editor.source.ref === ref) return;
    this.sourceFor = ref;
    const name = meta.file || meta.name || ref;
    if (meta.source) {
      this.editor.setSource({ ref, name, ...meta.source });
      return;
    }
    if (ref.startsWith('model:') || ref.startsWith('digit:')) { // a digit's graph is made, not written
      this.editor.setSource({ ref, name, text: null, format: meta.format }); // built in code
      return;
    }
    this.editor.clearSource(`Loading the text of ${name}…`);
    this._work(async () => {
      let source;
      try {
        const row = await getSource(ref);
        source = { ref, name: row.name || name, text: row.source, format: row.format };
      } catch {
        source = { ref, name, text: null, format: meta.format }; // gone meanwhile: no text
      }
      if (this.sourceFor === ref) this.editor.setSource(source);
    });
  }

  // -- ways a graph comes ------------------------------------------------------------------------
  /** The example menu, a link, the start. */
  loadRef(ref, options = {}) {
    return this._work(() => this.controller.load(ref, options).catch(() => false));
  }

  /** The editor's Load: its text, as an expression (or the JSON format it holds). */
  loadExpression(text, format = 'expr') {
    const source = this.editor.source;
    if (source && source.ref && source.text === text && !source.ref.startsWith('model:')) {
      // Unchanged: show that graph again from its start, without storing a duplicate upload.
      return this.loadRef(source.ref, { meta: { source: { text, format: source.format, name: source.name } } });
    }
    return this._work(async () => {
      this.editor.setBusy(true);
      let uploaded;
      try {
        uploaded = await uploadGraph(text, { format, name: format === 'expr' ? 'expression' : 'edited graph' });
      } catch (error) {
        // These problems are about the text in the editor: mark them there.
        this.editor.showProblems(error.problems || [], { message: error.message });
        this.banner.show([`Could not load the text in the editor: ${error.message}`,
          error.problems && error.problems.length ? 'Its problems are marked in the editor.' : '',
          this.graphName ? `The graph on screen is still ${this.graphName}.` : '']);
        return;
      } finally {
        this.editor.setBusy(false);
      }
      this.editor.showProblems([]);
      const source = { text, format: uploaded.format, name: uploaded.name };
      await this.controller.load(uploaded.ref, { meta: { source } }).catch(() => {});
    });
  }

  /** An upload (the file control or a drop): its text becomes the editor's once it loads. */
  loadFile(file) {
    return this._work(async () => {
      const text = await file.text().catch(() => null);
      let uploaded;
      try {
        uploaded = await uploadFile(file);
      } catch (error) {
        // Not the editor's text: nothing is marked there; the message names the file.
        this.banner.show([`Could not load ${file.name}: ${error.message}`, ...problemLines(error),
          this.graphName ? `The graph on screen is still ${this.graphName}.` : '']);
        return;
      }
      const source = { text, format: uploaded.format, name: file.name };
      await this.controller.load(uploaded.ref, { meta: { source, file: file.name } }).catch(() => {});
    });
  }

  /** "Edit a copy" of the shared graph on screen: it becomes the visitor's, where it was. */
  copyShared() {
    const ref = this.controller.session.ref || '';
    if (!ref.startsWith(SHARED)) return Promise.resolve();
    return this._work(async () => {
      this.sharedBar.copy.disabled = true;
      try {
        const copy = await copySharedGraph(ref.slice(SHARED.length));
        const text = this.editor.source && this.editor.source.text;
        const place = { ...this.controller.place(), page: this.savePlace() };
        await this.controller.load(copy.ref, { place,
          meta: { source: text != null ? { text, format: copy.format, name: copy.name } : null } }).catch(() => {});
      } catch (error) {
        this.banner.show([`Could not copy the shared graph: ${error.message}`]);
      } finally {
        this.sharedBar.copy.disabled = false;
      }
    });
  }

  /** The page opens: the graph (and place) its address names. */
  start() {
    const { ref } = graphFromUrl();
    const place = placeFromUrl();
    return this.loadRef(ref, { place }).then(() => clearPlace());
  }

  /** A node's name for others (the caption, say), as the Inspector writes it. */
  label(id) {
    return this.controller.graph ? label(this.controller.graph, id) : '';
  }
}
