// One tab stop for a list of elements (a roving tabindex): Tab reaches the one focused last,
// arrow keys move along the list, Home and End go to its ends. The diagram's 100-odd edges and
// its neurons would otherwise be a Tab press each before the controls after them.
const NEXT = { ArrowDown: 1, ArrowRight: 1, ArrowUp: -1, ArrowLeft: -1 };

export function rovingFocus(elements) {
  let current = 0;
  elements.forEach((el, k) => {
    el.setAttribute('tabindex', k === 0 ? '0' : '-1');
    el.addEventListener('focus', () => {
      if (k === current) return;
      elements[current].setAttribute('tabindex', '-1');
      el.setAttribute('tabindex', '0');
      current = k;
    });
    el.addEventListener('keydown', (event) => {
      if (event.altKey || event.ctrlKey || event.metaKey) return;
      let to = null;
      if (event.key in NEXT) to = Math.min(elements.length - 1, Math.max(0, k + NEXT[event.key]));
      else if (event.key === 'Home') to = 0;
      else if (event.key === 'End') to = elements.length - 1;
      if (to === null) return;
      event.preventDefault(); // the page would scroll
      elements[to].focus();
    });
  });
}
