// The graph view beside the curves, in training mode: it shows the focused run's network (or,
// with no run in focus, the model the form would train). Graph mode's graph comes back when
// the page leaves training mode, if training mode replaced it.

const MODEL_REFS = { resnet: 'model:resnet', mlp: 'model:mlp' };

export class TrainingStage {
  /** config(): the training config to show — the focused run's, else the form's. */
  constructor({ controller, session, config }) {
    this.controller = controller;
    this.session = session;
    this.config = config;
    this.loading = null;
    this.graphModeRef = null; // what Graph mode showed before training mode took the view
    this.shownForTraining = null; // what training mode loaded into the view
  }

  /** The graph ref of the network to show, or null. */
  ref() {
    const cfg = this.config();
    if (cfg.model === 'network' || cfg.graph) return cfg.graph || null;
    const ref = MODEL_REFS[cfg.model];
    // Draw the width the run trains (model:resnet:128), so the blocks' sizes are its own.
    return ref && cfg.width && +cfg.width !== 32 ? `${ref}:${cfg.width}` : ref || null;
  }

  /** Is the view showing the network of ref()? */
  get showing() {
    return this.session.ref === this.ref();
  }

  enter() {
    this.graphModeRef = this.session.ref;
  }

  /** Load ref() into the view, unless it is there or on its way. */
  sync() {
    const ref = this.ref();
    if (!ref || ref === this.session.ref || ref === this.loading) return;
    this.loading = ref;
    this.shownForTraining = ref;
    this.controller.load(ref).catch(() => {}).finally(() => {
      if (this.loading === ref) this.loading = null;
    });
  }

  /** Back in Graph mode: the graph it showed, if training mode replaced it, where it was left
   * (what-if values, playhead, selection: the controller kept its place). */
  leave() {
    const ref = this.graphModeRef;
    this.graphModeRef = null;
    if (ref && this.session.ref === this.shownForTraining && ref !== this.session.ref) {
      this.controller.load(ref, { resume: true }).catch(() => {});
    }
  }
}
