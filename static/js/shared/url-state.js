// Everything the page keeps in its address, so that a reload or a copied link comes back to the
// same place — the one module that reads or writes the URL:
//   ?graph=REF       the graph shown (an example, a model, a stored upload: "example:x.expr", …)
//   ?shared=ID       …or a shared graph, read-only (the graph's ref is then "shared:ID")
//   ?runs=ID,ID      the training runs overlaid on the curves, besides the focused one
//   ?focus=ID        the training run in focus
//   ?run=TOKEN       a training run shared by link, shown read-only (a ?shared= link to a run
//                    becomes this once the server has said the token is a run's)
//   ?values=JSON     a shared link's what-if values ({name or id: number}), read once on open
//   ?at=N&mode=M     …and its playhead (events done) and animation mode
//   ?lr=X            the Graph tab's descent learning rate (kept while the page is open, and in links)
//   ?projector=1     projector mode: bigger text, thicker lines (theme.js)
//   #training        the page is in training mode (no hash: graph mode)
//   #playground      …or on the Playground tab (issue 13), whose exercise is kept in
//   ?pg.data=…&pg.net=4,2&…  (playgroundFromUrl below: every option that is not the default)
// Writes replace the history entry (never push one): the back button leaves the page, as before.

export const DEFAULT_GRAPH = 'example:reference.expr';
const SHARED = 'shared:';

const current = () => new URL(window.location.href);

/** Apply `change` to a copy of the current URL; replace the address if that changed it. */
function rewrite(change) {
  const url = current();
  change(url);
  if (url.href !== window.location.href) window.history.replaceState(null, '', url);
}

function setOrDelete(params, key, value) {
  if (value) params.set(key, value);
  else params.delete(key);
}

// -- the graph ---------------------------------------------------------------------------------

/** The graph the address asks for: {ref, sharedId} — sharedId is set for ?shared=ID (ref
 * "shared:ID"); otherwise ref is ?graph=, or DEFAULT_GRAPH. */
export function graphFromUrl() {
  const params = current().searchParams;
  const sharedId = params.get('shared');
  if (sharedId) return { ref: SHARED + sharedId, sharedId };
  return { ref: params.get('graph') || DEFAULT_GRAPH, sharedId: null };
}

/** Record the graph shown. The other parameters (the compared runs) and the hash stay. */
export function setGraph(ref) {
  rewrite((url) => {
    url.searchParams.delete('graph');
    url.searchParams.delete('shared');
    if (ref.startsWith(SHARED)) url.searchParams.set('shared', ref.slice(SHARED.length));
    else url.searchParams.set('graph', ref);
  });
}

/** A link that opens the graph `ref` on this server, or null when the graph is an upload only
 * this workspace knows (it must be shared first; the server then answers with a path). */
export function graphLink(ref) {
  // The page is served at the server's base only ("/", or its prefix behind a proxy).
  const { origin, pathname } = current();
  const page = origin + pathname;
  if (ref.startsWith('example:') || ref.startsWith('model:')) return `${page}?graph=${encodeURIComponent(ref)}`;
  if (ref.startsWith(SHARED)) return `${page}?shared=${ref.slice(SHARED.length)}`;
  return null;
}

/** A path the server gave (a shared graph's), as a full link. */
export function absoluteLink(path) {
  return new URL(path, current().origin).href;
}

// -- a link's place: what-if values and playhead ----------------------------------------------

const PLACE_KEYS = ['values', 'at', 'mode'];
const MODES = ['forward', 'backward', 'both'];

/** The place a link asks for, {values, at, mode}, or null: bad parts are dropped, not fatal. */
export function placeFromUrl() {
  const params = current().searchParams;
  if (!PLACE_KEYS.some((k) => params.has(k))) return null;
  let values = {};
  try {
    const parsed = JSON.parse(params.get('values') || '{}');
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
      values = Object.fromEntries(Object.entries(parsed).filter(([, v]) => Number.isFinite(v)));
    }
  } catch {
    values = {};
  }
  const at = Number(params.get('at'));
  const mode = params.get('mode');
  return { values, at: params.has('at') && Number.isInteger(at) && at >= 0 ? at : null,
    mode: MODES.includes(mode) ? mode : null };
}

/** The place has been taken: the address goes back to naming just the graph. */
export function clearPlace() {
  rewrite((url) => PLACE_KEYS.forEach((k) => url.searchParams.delete(k)));
}

/** `link` with a place added: {values: {name or id: number}, at, mode}; what is the default
 * (no values, the playhead at 0, mode "both") is left out, so a fresh graph's link stays short. */
export function placeLink(link, { values = {}, at = null, mode = null, lr = null } = {}) {
  const url = new URL(link);
  if (lr) url.searchParams.set('lr', String(lr));
  if (Object.keys(values).length) url.searchParams.set('values', JSON.stringify(values));
  if (at) url.searchParams.set('at', String(at));
  if (mode && mode !== 'both') url.searchParams.set('mode', mode);
  return url.href;
}

// -- the descent learning rate -----------------------------------------------------------------

/** ?lr=, a number above 0, or null. */
export function learningRateFromUrl() {
  const lr = Number(current().searchParams.get('lr'));
  return current().searchParams.has('lr') && Number.isFinite(lr) && lr > 0 ? lr : null;
}

export function setLearningRate(lr) {
  rewrite((url) => setOrDelete(url.searchParams, 'lr', lr ? String(lr) : ''));
}

// -- the mode ----------------------------------------------------------------------------------

/** 'training', 'playground' or 'graph'. */
export function modeFromUrl() {
  const hash = window.location.hash;
  return hash === '#training' ? 'training' : hash === '#playground' ? 'playground' : 'graph';
}

export function setMode(mode) {
  rewrite((url) => {
    url.hash = mode === 'training' || mode === 'playground' ? mode : '';
  });
}

// -- issue 13: the Playground's exercise -------------------------------------------------------
// Each option of the exercise as its own ?pg.<key>= parameter, written only when it is not the
// default, so a teacher's link names just what they changed. Values are checked by the
// Playground's model (playground/playground-config.js); here they stay strings.
const PLAYGROUND_PREFIX = 'pg.';

/** {key: string} of the ?pg.* parameters. */
export function playgroundFromUrl() {
  const out = {};
  for (const [key, value] of current().searchParams) {
    if (key.startsWith(PLAYGROUND_PREFIX)) out[key.slice(PLAYGROUND_PREFIX.length)] = value;
  }
  return out;
}

/** Replace the ?pg.* parameters with `options` ({key: string}; empty strings are dropped). */
export function setPlayground(options) {
  rewrite((url) => {
    for (const key of [...url.searchParams.keys()]) {
      if (key.startsWith(PLAYGROUND_PREFIX)) url.searchParams.delete(key);
    }
    for (const [key, value] of Object.entries(options)) {
      if (value !== '') url.searchParams.set(PLAYGROUND_PREFIX + key, value);
    }
  });
}

// -- the compared training runs ----------------------------------------------------------------

/** {runs: [id] overlaid, focus: id | null}. */
export function comparisonFromUrl() {
  const params = current().searchParams;
  return { runs: (params.get('runs') || '').split(',').filter(Boolean), focus: params.get('focus') || null };
}

export function setComparison({ runs, focus }) {
  rewrite((url) => {
    setOrDelete(url.searchParams, 'runs', runs.join(','));
    setOrDelete(url.searchParams, 'focus', focus);
  });
}

// -- a training run shared by link -------------------------------------------------------------

/** The share token of the run the address opens read-only, or null. */
export function sharedRunFromUrl() {
  return current().searchParams.get('run');
}

/** The address opens the shared run `token` (read-only, in training mode), not a shared graph. */
export function setSharedRun(token) {
  rewrite((url) => {
    url.searchParams.delete('shared');
    setOrDelete(url.searchParams, 'run', token);
    url.hash = 'training';
  });
}

// -- projector mode ----------------------------------------------------------------------------

/** Is projector mode asked for (?projector=1)? */
export function projectorFromUrl() {
  const value = current().searchParams.get('projector');
  return value === '1' || value === 'true';
}

export function setProjector(on) {
  rewrite((url) => setOrDelete(url.searchParams, 'projector', on ? '1' : ''));
}
