// Notes on the graph on screen: what its file has that was accepted and ignored (a micrograd
// paste's `from micrograd.engine import Value`, its print(...) lines), each with its line and
// column, listed under the editor beside where its problems are. Not errors: nothing is wrong.

export class LoadNotes {
  constructor(list) {
    this.list = list;
  }

  /** notes: [{location: "line:col" or "", message}] from load_graph. */
  show(notes) {
    this.list.replaceChildren(...notes.map(note));
    this.list.hidden = notes.length === 0;
  }
}

function note({ location, message }) {
  const li = document.createElement('li');
  const match = /^(\d+):(\d+)$/.exec(location || '');
  li.textContent = match ? `Line ${match[1]}, column ${match[2]}: ${message}` : message;
  if (match) li.dataset.line = match[1];
  return li;
}
