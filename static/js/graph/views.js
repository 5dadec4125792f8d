// Which view the graph area shows, and the way back: the whole graph (SVG, or canvas when big),
// a network's blocks, one block expanded to its scalar nodes, or one node's receptive field.
// Each entry keeps its layout, so positions stay put when coming back or when values change.
// Keyboard: Escape goes back one level (out of an expanded block or a receptive field); a view
// that had the focus hands it to the next one, on the block or node it came from.
import * as d3 from 'd3';
import { SvgGraphView } from './graph-view-svg.js';
import { CanvasGraphView } from './graph-view-canvas.js';
import { GroupedView, blockLayout } from './grouped-view.js';
import { ImageGridView, imageShape } from './image-grid-view.js';
import { WeightMatrixView, weightShape } from './weight-matrix-view.js';
import { FieldGridsView } from './field-grids-view.js';
import { fieldOnImages, imageBlocks } from './field-images.js';
import { layeredLayoutOff, layoutNodes } from './graph-layout.js';
import { groupIndex } from './trace-state.js';
import { label, receptiveField } from './graph-model.js';
import { projectorOn } from '../shared/theme.js';

export const SVG_CAP = 600; // scalar nodes drawn as SVG; above this, canvas
const FIELD_CAP = 300;

export class ViewManager {
  constructor(container, breadcrumb, { onSelect = () => {}, onChange = () => {} } = {}) {
    this.container = container;
    this.breadcrumb = breadcrumb;
    this.onSelect = onSelect;
    this.onChange = onChange;
    this.stack = [];
    this.view = null;
    this.token = 0;
    container.addEventListener('keydown', (event) => {
      if (event.key !== 'Escape' || event.defaultPrevented || this.stack.length < 2) return;
      event.preventDefault();
      this.back(this.stack.length - 2);
    });
  }

  /** Keyboard focus to the graph (its last focused node). */
  focus() {
    if (this.view) this.view.focus();
  }

  /** The keys the views handle themselves, for the Keyboard help, and the one to reach them. */
  shortcuts({ when = () => true } = {}) {
    const group = 'In the graph';
    return [
      { keys: ['g'], label: 'Move the focus into the graph', group, when, run: () => this.focus() },
      { keys: ['ArrowLeft', 'ArrowRight', 'ArrowUp', 'ArrowDown'], label: 'Move between nodes or blocks, as they are drawn', group },
      { keys: ['Home', 'End'], label: 'First / last node', group },
      { keys: ['Enter', ' '], label: 'Show the node in the Inspector; expand a block', group },
      { keys: ['Escape'], label: 'Leave an expanded block or receptive field', group },
    ];
  }

  setGraph(graph) {
    this.graph = graph;
    this.groups = groupIndex(graph);
    this.imageBlocks = null;
    const grouped = graph.groups.length > 0 && graph.n > SVG_CAP;
    this.stack = [grouped ? { kind: 'blocks', title: 'Blocks' } : { kind: 'all', title: 'Graph' }];
    return this._show();
  }

  expandBlock(name) {
    const b = this.groups.index.get(name);
    const ids = [];
    for (let i = 0; i < this.graph.n; i++) if (this.groups.of[i] === b) ids.push(i);
    this.stack = this.stack.slice(0, 1);
    this.stack.push({ kind: 'block', title: name || 'leaves', ids, block: name });
    return this._show();
  }

  receptiveField(root) {
    const ids = receptiveField(this.graph, root, FIELD_CAP).sort((a, b) => a - b);
    const top = this.stack[this.stack.length - 1];
    if (top.kind === 'field') this.stack.pop();
    // A network with image-shaped blocks: the field drawn on the grids it spans, first.
    this.imageBlocks = this.imageBlocks || imageBlocks(this.graph, this.groups);
    const images = fieldOnImages(this.graph, this.imageBlocks, root);
    this.stack.push({ kind: 'field', title: `Receptive field of ${label(this.graph, root)}`, ids, root,
      images: images.length ? images : null });
    return this._show();
  }

  back(level) {
    const leaving = this.entry;
    this.stack = this.stack.slice(0, level + 1);
    return this._show({ focusOn: leaving.kind === 'block' ? leaving.block : leaving.root });
  }

  get entry() {
    return this.stack[this.stack.length - 1];
  }

  async _show({ focusOn } = {}) {
    const token = ++this.token;
    const hadFocus = this.container.contains(document.activeElement);
    const entry = this.entry;
    const graph = this.graph;
    this._renderBreadcrumb();
    if (this.view) this.view.destroy();
    this.view = null;
    let view;
    if (entry.kind === 'block' && !entry.allNodes && entry.image !== null) {
      // An image-shaped block (Conv, ReLU, Add, the image): drawn as its image.
      entry.image = entry.image || imageShape(graph, entry.ids, entry.block);
      // A fully connected block: its weight matrix.
      const kind = graph.groups.find((g) => g.name === entry.block)?.kind;
      entry.image = entry.image || weightShape(graph, entry.ids, entry.block, kind);
    }
    if (entry.kind === 'blocks') {
      entry.layout = entry.layout || blockLayout(graph, this.groups);
      view = new GroupedView(this.container, {
        onExpand: (name) => this.expandBlock(name),
        onSelectBlock: () => {},
      });
    } else if (entry.kind === 'block' && !entry.allNodes && entry.image) {
      const View = entry.image.method === 'weights' ? WeightMatrixView : ImageGridView;
      view = new View(this.container, { onSelect: this.onSelect, entry, count: entry.ids.length,
        onAllNodes: () => {
          entry.allNodes = true;
          this._show();
        } });
    } else if (entry.kind === 'field' && entry.images && !entry.allNodes) {
      view = new FieldGridsView(this.container, { onSelect: this.onSelect, root: entry.root,
        rootLabel: label(graph, entry.root),
        onAllNodes: () => {
          entry.allNodes = true;
          this._show();
        } });
    } else {
      const ids = entry.ids || d3.range(graph.n);
      const big = ids.length > SVG_CAP;
      if (!entry.layout) {
        // Blocks and receptive fields have the network's regular structure: layered by depth,
        // wide ranks wrapped into columns to fill the view. A whole small graph: dagre.
        // Projector mode writes bigger labels: small graphs get the room for them.
        const f = big ? 1 : labelRoom();
        const spacing = big ? { rankSep: 60, nodeSep: 16, subColumnSep: 16 }
          : { rankSep: 130 * f, nodeSep: 78 * f, subColumnSep: 96 * f };
        const aspect = (this.container.clientWidth || 800) / (this.container.clientHeight || 600);
        entry.layout = big || entry.kind !== 'all'
          ? await layeredLayoutOff(graph, ids, { ...spacing, sweeps: big ? 2 : 4 }, { aspect })
          : await layoutNodes(graph, ids, {
            onImproved: (layout) => {
              entry.layout = layout;
              if (this.entry === entry) this.container.dataset.layout = layout.method;
              if (this.entry === entry && this.view && this.view.setLayout) this.view.setLayout(layout);
            },
            layered: { rankSep: 130 * f, nodeSep: 78 * f },
            dagre: { nodeWidth: 70 * f, nodeHeight: 66 * f, rankSep: 60 * f, nodeSep: 16 * f },
          });
        if (token !== this.token) return;
      }
      view = big ? new CanvasGraphView(this.container, { onSelect: this.onSelect })
        : new SvgGraphView(this.container, { onSelect: this.onSelect });
    }
    this.view = view;
    const drawsItsOwn = view.kind === 'image' || view.kind === 'weights' || view.kind === 'field-images';
    view.setGraph(graph, view.kind === 'field-images' ? entry.images : drawsItsOwn ? entry.image : entry.layout);
    if (hadFocus) view.focus(focusOn ?? undefined);
    this.container.dataset.view = entry.kind;
    this.container.dataset.renderer = view.kind;
    this.container.dataset.layout = drawsItsOwn ? view.kind : entry.layout.method || 'blocks';
    this.container.dataset.layoutWhere = entry.layout?.where || 'main'; // for tests: 'worker' or 'main'
    this.onChange(entry);
    // For the bench and tests: when this view has been painted once (the frame after a canvas
    // view's nodes are all painted: a big graph's take a few tasks).
    const painted = () => {
      if (token !== this.token) return;
      performance.mark(`view-painted:${entry.kind}`);
      this.container.dataset.painted = String(token);
    };
    if (view.drawn) view.drawn.then(() => requestAnimationFrame(painted));
    else requestAnimationFrame(painted);
  }

  _renderBreadcrumb() {
    const items = this.stack.map((entry, level) => {
      const last = level === this.stack.length - 1;
      const node = document.createElement(last ? 'span' : 'button');
      node.textContent = entry.title;
      if (!last) {
        node.type = 'button';
        node.addEventListener('click', () => this.back(level));
      } else node.setAttribute('aria-current', 'page');
      return node;
    });
    this.breadcrumb.replaceChildren(...items.flatMap((n, k) => (k ? [sep(), n] : [n])));
  }

  render(state, ctx) {
    if (this.view) this.view.update(state, ctx);
  }

  fit() {
    if (this.view) this.view.fit();
  }

  /** Lay every view out again (projector mode changed the labels' sizes), then draw. */
  relayout() {
    for (const entry of this.stack) delete entry.layout;
    return this.redraw();
  }

  /** Draw the current view anew, from its kept layout (after the theme changed its colours). */
  redraw() {
    return this.stack.length ? this._show() : Promise.resolve();
  }
}

/** How much room between nodes, relative to the ordinary: projector mode's labels are bigger. */
const PROJECTOR_ROOM = 1.35;
function labelRoom() {
  return projectorOn() ? PROJECTOR_ROOM : 1;
}

function sep() {
  const s = document.createElement('span');
  s.className = 'sep';
  s.textContent = '›';
  s.setAttribute('aria-hidden', 'true');
  return s;
}
