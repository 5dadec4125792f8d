// Tests write small graphs as one object per node; the server sends them columnar
// (docs/protocol.md, "Loading a graph"). This packs the first into the second.
export function columnar({ nodes, inputs = [], consts = [], outputs = [], groups = [], operators = {} }) {
  const ops = [...new Set(nodes.map((d) => d.op))];
  const groupNames = [...new Set(nodes.map((d) => d.group).filter((g) => g != null))];
  const byId = [...nodes].sort((a, b) => a.id - b.id);
  const childStart = [0];
  for (const d of byId) childStart.push(childStart[childStart.length - 1] + d.children.length);
  const named = byId.filter((d) => d.name != null);
  return {
    count: byId.length,
    ops,
    op: new Uint8Array(byId.map((d) => ops.indexOf(d.op))).buffer,
    depth: new Int32Array(byId.map((d) => d.depth)).buffer,
    child_start: new Int32Array(childStart).buffer,
    children: new Int32Array(byId.flatMap((d) => d.children)).buffer,
    named: new Int32Array(named.map((d) => d.id)).buffer,
    ...names(named.map((d) => d.name)),
    group_names: groupNames,
    group: new Int32Array(byId.map((d) => (d.group == null ? -1 : groupNames.indexOf(d.group)))).buffer,
    inputs: new Int32Array(inputs).buffer,
    consts,
    outputs: [...new Set([...outputs, ...byId.filter((d) => d.output).map((d) => d.id)])],
    groups,
    operators,
  };
}

/** Names as the protocol sends them: one string, and where each name ends in it (UTF-16 code
 * units, a string's own indexes). */
export function names(list) {
  const ends = new Int32Array(list.length);
  let end = 0;
  list.forEach((name, k) => { end += name.length; ends[k] = end; });
  return { names: list.join(''), name_ends: ends.buffer };
}
