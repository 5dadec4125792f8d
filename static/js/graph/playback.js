// Play, pause, step, step back, restart, speed, the forward / back-prop / both choice, the
// timeline scrubber, and the keyboard shortcuts for them (routed by shared/keyboard.js, so they
// never take a key from a focused button, radio button or field). Everything is client-side: the playhead
// moves over the events of a received trace (trace-state.js); the server is never asked per step.

import { invalidate, onFrame } from '../shared/frame-loop.js';
import { GRADIENT } from './timeline.js';

const SPEED_MIN = Math.log10(0.5); // events per second at the slider's left end
const SPEED_MAX = Math.log10(20000);
const TARGET_SECONDS = 20; // a graph's default speed plays its whole trace in about this long

export class Playback {
  /**
   * `el`: the controls' elements (see templates/index.html); `onMove(state)` after each move.
   * Its keys are shortcuts() (shared/keyboard.js routes them).
   */
  constructor(el, { onMove = () => {}, onModeChange = () => {} } = {}) {
    this.el = el;
    this.onMove = onMove;
    this.onModeChange = onModeChange;
    this.state = null;
    this.mode = 'both';
    this.playing = false;
    this.cursor = 0; // fractional playhead while playing
    this.last = 0;
    this.eventsPerSecond = 4;
    this.stopped = []; // finished()'s resolvers

    el.play.addEventListener('click', () => this.toggle());
    el.stepForward.addEventListener('click', () => this.step(1));
    el.stepBack.addEventListener('click', () => this.step(-1));
    el.restart.addEventListener('click', () => this.restart());
    el.speed.addEventListener('input', () => this.setSpeed(sliderToSpeed(+el.speed.value), false));
    el.scrubber.addEventListener('input', () => {
      this.pause();
      this.seek(+el.scrubber.value);
    });
    for (const radio of el.modes) {
      radio.addEventListener('change', () => radio.checked && this.setMode(radio.value));
    }
    onFrame((now) => this._tick(now));
    this._render();
  }

  /** A new trace to play. `fresh`: a new graph (default speed, playhead at the range start). */
  attach(state, { fresh = true, atEnd = false } = {}) {
    this.pause();
    this.state = state;
    if (fresh) this.setSpeed(Math.min(2000, Math.max(1, state.timeline.length / TARGET_SECONDS)));
    const [start, end] = this.range();
    this.seek(atEnd ? end : start);
  }

  detach() {
    this.pause();
    this.state = null;
    this._render();
  }

  /** Go to where back-prop first reaches one of the nodes `ids` (an expanded block), in a mode
   * that shows back-prop. */
  seekToGradient(ids) {
    const t = this.state && this.state.timeline;
    if (!t || !ids) return;
    const i = t.firstEvent(GRADIENT, new Set(ids), t.forwardCount);
    if (i < 0) return;
    if (this.mode === 'forward') this.setMode('both');
    this.seek(i);
  }

  /** [first, last] playhead positions for the chosen mode. */
  range() {
    const t = this.state && this.state.timeline;
    if (!t) return [0, 0];
    if (this.mode === 'forward') return [0, t.forwardCount];
    if (this.mode === 'backward') return [t.forwardCount, t.length];
    return [0, t.length];
  }

  setMode(mode) {
    if (mode === this.mode) return;
    this.mode = mode;
    for (const radio of this.el.modes) radio.checked = radio.value === mode;
    this.pause();
    this.onModeChange(mode);
    if (this.state) {
      const [start, end] = this.range();
      this.seek(Math.min(Math.max(this.state.pos, start), end));
    }
    this._render();
  }

  setSpeed(eventsPerSecond, updateSlider = true) {
    this.eventsPerSecond = eventsPerSecond;
    if (updateSlider) this.el.speed.value = String(speedToSlider(eventsPerSecond));
    const shown = eventsPerSecond >= 10 ? Math.round(eventsPerSecond) : eventsPerSecond.toFixed(1);
    this.el.speed.setAttribute('aria-valuetext', `${shown} events per second`);
    this.el.speedReadout.textContent = `${shown}/s`;
  }

  play() {
    if (!this.state || this.playing) return;
    const [start, end] = this.range();
    if (this.state.pos >= end && this.state.timeline.done) this.seek(start);
    this.playing = true;
    this.cursor = this.state.pos;
    this.last = performance.now();
    this._render();
    invalidate();
  }

  pause() {
    if (!this.playing) return;
    this.playing = false;
    this._render();
    this._stopped();
  }

  /** Resolves when playing stops (at the range's end, or paused); at once if not playing. */
  finished() {
    if (!this.playing) return Promise.resolve();
    return new Promise((resolve) => this.stopped.push(resolve));
  }

  _stopped() {
    const waiting = this.stopped;
    this.stopped = [];
    for (const resolve of waiting) resolve();
  }

  toggle() {
    if (this.playing) this.pause();
    else this.play();
  }

  step(delta) {
    if (!this.state) return;
    this.pause();
    this.seek(this.state.pos + delta);
  }

  restart() {
    if (!this.state) return;
    this.seek(this.range()[0]);
    this.play();
  }

  seek(pos) {
    if (!this.state) return;
    const [start, end] = this.range();
    this.state.seek(Math.max(start, Math.min(end, Math.round(pos))));
    this.cursor = this.state.pos;
    this._render();
    this.onMove(this.state);
    invalidate();
  }

  _tick(now) {
    if (!this.playing || !this.state) return;
    const dt = Math.min(0.25, (now - this.last) / 1000);
    this.last = now;
    const [, end] = this.range();
    this.cursor = Math.min(end, this.cursor + dt * this.eventsPerSecond);
    const target = Math.floor(this.cursor);
    if (target !== this.state.pos) {
      this.state.seek(target);
      this.onMove(this.state);
    }
    if (this.state.pos >= end && this.state.timeline.done) {
      this.playing = false;
      this._stopped();
    }
    this._render();
    if (this.playing) invalidate();
  }

  /** Its keyboard shortcuts (shared/keyboard.js), applying while `when()` says so. */
  shortcuts({ when = () => true, group = 'Playback' } = {}) {
    const seekTo = (end) => {
      if (!this.state) return;
      this.pause();
      this.seek(this.range()[end ? 1 : 0]);
    };
    return [
      { keys: [' ', 'k'], label: 'Play / pause', run: () => this.toggle() },
      { keys: ['ArrowRight', 'l'], label: 'Step forward one event', run: () => this.step(1) },
      { keys: ['ArrowLeft', 'j'], label: 'Step back one event', run: () => this.step(-1) },
      { keys: ['Home'], label: 'Go to the start', run: () => seekTo(false) },
      { keys: ['End'], label: 'Go to the end', run: () => seekTo(true) },
    ].map((s) => ({ ...s, when, group }));
  }

  _render() {
    const el = this.el;
    const has = !!this.state;
    const [start, end] = this.range();
    const pos = has ? this.state.pos : 0;
    el.play.textContent = this.playing ? 'Pause' : 'Play';
    el.play.setAttribute('aria-label', this.playing ? 'Pause' : 'Play');
    el.play.classList.toggle('playing', this.playing);
    el.play.disabled = !has;
    el.stepForward.disabled = !has || pos >= end;
    el.stepBack.disabled = !has || pos <= start;
    el.restart.disabled = !has;
    el.scrubber.disabled = !has;
    el.scrubber.min = String(start);
    el.scrubber.max = String(end);
    el.scrubber.value = String(pos);
    el.scrubber.setAttribute('aria-valuetext', `event ${pos - start} of ${end - start}`);
    el.position.textContent = has ? `${pos - start} / ${end - start}` : '–';
  }
}

export function sliderToSpeed(v) {
  return 10 ** (SPEED_MIN + (v / 100) * (SPEED_MAX - SPEED_MIN));
}

export function speedToSlider(speed) {
  const v = ((Math.log10(speed) - SPEED_MIN) / (SPEED_MAX - SPEED_MIN)) * 100;
  return Math.max(0, Math.min(100, Math.round(v)));
}
