// Is a run diverging? The rule (docs/training.md, "Diverging runs"), over a run's records:
// - the loss of a step is not finite (NaN or ±∞): diverged at that step; or
// - at the end of an epoch, its mean training loss (the epoch record's train_loss, the mean of
//   its steps' losses) is above chance — ln 10 ≈ 2.303, the loss of guessing 1/10 for every
//   digit — and more than 1% above the previous epoch's mean (for epoch 1: above the first
//   step's loss, the untrained network's): the loss rose over a whole epoch. Diverged at that
//   epoch's last step.
// The first of these is the run's verdict; a healthy run never meets either: its epoch means
// fall below chance within the first epoch, and any later rise is far below it (measured over
// 20-epoch runs — the ResNet and the MLP, Adam and SGD, batch 4 to 64, lr up to 0.03, label
// smoothing 0 and 0.1 — every epoch-on-epoch rise was at a mean loss under 0.62).
// Pure (no DOM); results are kept per run and only the records that came since are looked at.
import { short } from '../shared/numbers.js';

export const CHANCE_LOSS = Math.log(10);
export const RISE = 0.01; // an epoch's mean loss must exceed the one before by more than this share
export const ADVICE = 'try a smaller learning rate';

const seen = new WeakMap(); // RunData → {n, epochs, verdict}

/**
 * The run's divergence, or null: {step, epoch, reason: 'not-finite' | 'rising', text}. `text` is
 * a sentence for a learner ending with the advice.
 */
export function divergence(data) {
  let state = seen.get(data);
  if (!state || state.n > data.n || state.epochs > data.epochs.length) state = { n: 0, epochs: 0, verdict: null };
  seen.set(data, state);
  if (state.verdict) return state.verdict;
  const verdicts = [firstNotFinite(data, state.n), firstRise(data, state.epochs)].filter(Boolean);
  state.n = data.n;
  state.epochs = data.epochs.length;
  state.verdict = verdicts.sort((a, b) => a.step - b.step)[0] || null;
  return state.verdict;
}

function firstNotFinite(data, from) {
  const loss = data.columns.loss.data;
  for (let i = from; i < data.n; i++) {
    if (!Number.isFinite(loss[i])) {
      const step = data.columns.step.data[i];
      return { step, epoch: data.columns.epoch.data[i], reason: 'not-finite',
        text: `Diverging: the loss became ${Number.isNaN(loss[i]) ? 'NaN' : '∞'} at step ${step} — ${ADVICE}.` };
    }
  }
  return null;
}

function firstRise(data, from) {
  if (!data.n) return null;
  for (let j = from; j < data.epochs.length; j++) {
    const e = data.epochs[j];
    const before = j === 0 ? data.columns.loss.data[0] : data.epochs[j - 1].train_loss;
    const mean = e.train_loss;
    if (!Number.isFinite(mean)) {
      return { step: e.step, epoch: e.epoch, reason: 'not-finite',
        text: `Diverging: epoch ${e.epoch}’s mean loss is not a number — ${ADVICE}.` };
    }
    if (mean > CHANCE_LOSS && Number.isFinite(before) && mean > before * (1 + RISE)) {
      const was = j === 0 ? `${short(before)} at the first step` : `${short(before)} in epoch ${e.epoch - 1}`;
      return { step: e.step, epoch: e.epoch, reason: 'rising',
        text: `Diverging: the loss rose over epoch ${e.epoch} (mean ${short(mean)}, from ${was}) and is worse `
          + `than guessing (${short(CHANCE_LOSS)}) — ${ADVICE}.` };
    }
  }
  return null;
}
