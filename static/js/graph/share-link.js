// The Share button and what it shows: the link to the graph, and — when that link is one the
// server stores (an upload's) — a "Stop sharing" button that revokes it. An example's or a model's
// link is just the page's address: there is nothing to revoke.
import { shareGraph, unshareGraph } from '../shared/api.js';
import { absoluteLink, graphLink, placeLink } from '../shared/url-state.js';

export class ShareLink {
  constructor({ share, field, unshare, status }, { notify }) {
    this.share = share;
    this.field = field;
    this.unshare = unshare;
    this.status = status;
    this.notify = notify;
    this.ref = null; // the graph whose link is shown
    unshare.addEventListener('click', () => this.stop());
  }

  /** Show a link to `ref`: the page's own address for an example or a model, else a stored one;
   * with `place` ({values, at, mode}) the link opens on the same what-if values and playhead. */
  async open(ref, place = null) {
    const ownLink = graphLink(ref);
    let link = ownLink;
    if (!ownLink) {
      try {
        link = absoluteLink((await shareGraph(ref)).url);
      } catch (error) {
        this.notify(error);
        return;
      }
    }
    this.show(ref, place ? placeLink(link, place) : link, { revocable: !ownLink });
  }

  show(ref, link, { revocable }) {
    this.ref = ref;
    this.say('');
    this.field.value = link;
    this.field.hidden = false;
    this.unshare.hidden = !revocable;
    this.field.focus();
    this.field.select();
  }

  async stop() {
    const graphId = this.ref;
    // Not while the server forgets the link: a Share pressed meanwhile would show the old one.
    this.setBusy(true);
    try {
      await unshareGraph(graphId);
    } catch (error) {
      this.say(`Could not stop sharing: ${error.message}`, { problem: true });
      return;
    } finally {
      this.setBusy(false);
    }
    if (this.ref !== graphId) return; // another graph came meanwhile; its link is not shown
    this.hide();
    this.say('The link no longer works.');
  }

  /** A graph was loaded: a link shown for another one no longer belongs on screen. */
  graphLoaded(ref) {
    if (ref === this.ref) return;
    this.hide();
    this.say('');
  }

  hide() {
    this.ref = null;
    this.field.hidden = true;
    this.field.value = '';
    this.unshare.hidden = true;
  }

  setBusy(busy) {
    this.share.disabled = busy;
    this.unshare.disabled = busy;
  }

  say(text, { problem = false } = {}) {
    this.status.textContent = text;
    this.status.classList.toggle('problem', problem);
  }
}
