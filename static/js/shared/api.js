// The server's HTTP side: uploading a graph definition (expression text or a file) gives a graph
// id that load_graph and trace_graph accept; examples and sharing.
import { ServerError } from './socket.js';
import { serverPath } from './base.js';

async function json(response) {
  let body;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (!response.ok || (body && body.ok === false)) {
    throw new ServerError((body && body.error) || { message: `${response.status} ${response.statusText}` });
  }
  return body;
}

/** Upload a definition; resolves with {id, …}; rejects with ServerError carrying problems. */
export async function uploadGraph(text, { name = null, format = null } = {}) {
  const response = await fetch(serverPath('api/graphs'), {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ source: text, format, name }),
  });
  return json(response);
}

/** Upload a file as it is (multipart), so the server picks its format from its name. */
export async function uploadFile(file) {
  const form = new FormData();
  form.append('file', file, file.name);
  return json(await fetch(serverPath('api/graphs'), { method: 'POST', body: form }));
}

/** Built-in examples and models: {examples: [{ref, name, format, file}], models: [{ref, name, title}]}. */
export async function listExamples() {
  return json(await fetch(serverPath('api/examples')));
}

/** A read-only share link for an uploaded graph: {token, ref: "shared:…", url}. */
export async function shareGraph(graphId) {
  return json(await fetch(serverPath(`api/graphs/${encodeURIComponent(graphId)}/share`), { method: 'POST' }));
}

/** Revoke an uploaded graph's share link: it stops working at once; sharing again makes a new one. */
export async function unshareGraph(graphId) {
  const response = await fetch(serverPath(`api/graphs/${encodeURIComponent(graphId)}/share`), { method: 'DELETE' });
  if (!response.ok) await json(response);
}

/** An uploaded graph (its source text and name), or null. */
export async function getGraph(graphId) {
  const response = await fetch(serverPath(`api/graphs/${encodeURIComponent(graphId)}`));
  return response.ok ? response.json() : null;
}

/** A shared graph (source text, name, ref), or null. */
export async function getShared(token) {
  const response = await fetch(serverPath(`api/shared/${encodeURIComponent(token)}`));
  return response.ok ? response.json() : null;
}

// -- training runs (docs/api.md, "runs") -----------------------------------------------------------
/** This workspace's runs: [{id, name, config, status, created, finished, summary, steps}]. */
export async function listRuns() {
  return (await json(await fetch(serverPath('api/runs')))).runs;
}

/** Rename a run; resolves with the run. */
export async function renameRun(runId, name) {
  return json(await fetch(serverPath(`api/runs/${encodeURIComponent(runId)}`), {
    method: 'PATCH',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ name }),
  }));
}

/** Stop (if running) and delete a run with its metrics. */
export async function deleteRun(runId) {
  const response = await fetch(serverPath(`api/runs/${encodeURIComponent(runId)}`), { method: 'DELETE' });
  if (!response.ok) await json(response);
}

/** Where a run's metrics download as CSV (every record). */
export const runCsvUrl = (runId) => serverPath(`api/runs/${encodeURIComponent(runId)}/metrics.csv`);

/** A read-only link to a run of this workspace: {token, url} (the same token until revoked). */
export async function shareRun(runId) {
  return json(await fetch(serverPath(`api/runs/${encodeURIComponent(runId)}/share`), { method: 'POST' }));
}

/** Revoke a run's link: it stops working at once; sharing again makes a new one. */
export async function unshareRun(runId) {
  const response = await fetch(serverPath(`api/runs/${encodeURIComponent(runId)}/share`), { method: 'DELETE' });
  if (!response.ok) await json(response);
}

/** One page of what a share link shares, after record `after`; null when nothing is shared by it. */
export async function getSharedPage(token, after = 0) {
  const response = await fetch(serverPath(`api/shared/${encodeURIComponent(token)}?after=${after}`));
  if (response.status === 404) return null;
  return json(response);
}

// -- the graph on screen's text, and copies of shared graphs (issue 11) ----------------------------
/** The text behind a graph ref: {ref, name, format, source}; rejects (ServerError) for a model,
 * which is built in code, or a graph this workspace cannot see. */
export async function getSource(ref) {
  return json(await fetch(serverPath(`api/source?ref=${encodeURIComponent(ref)}`)));
}

/** "Edit a copy" of a shared graph: stored in this workspace; resolves like an upload. */
export async function copySharedGraph(token) {
  return json(await fetch(serverPath(`api/shared/${encodeURIComponent(token)}/copy`), { method: 'POST' }));
}
