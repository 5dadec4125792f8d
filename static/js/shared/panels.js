// Panels that fold away to give the graph room (on a projector or a small screen): each
// button names its panel with aria-controls and says with aria-expanded whether it shows; a
// folded panel is `hidden`, and app.css hands its grid area to the graph.

/** Wire `buttons`; onToggle(panel, open) after each change (the graph fits its new size). */
export function initPanelToggles(buttons, { onToggle = () => {} } = {}) {
  for (const button of buttons) {
    const panel = document.getElementById(button.getAttribute('aria-controls'));
    if (!panel) continue;
    const show = (open) => {
      panel.hidden = !open;
      button.setAttribute('aria-expanded', String(open));
    };
    show(button.getAttribute('aria-expanded') !== 'false');
    button.addEventListener('click', () => {
      const open = panel.hidden;
      show(open);
      onToggle(panel, open);
    });
  }
}
