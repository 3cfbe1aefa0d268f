// Shared by every page: the project's data URLs, fetch with the CSRF token, DOM helpers.

const body = document.body;
export const dataBase = body.dataset.data;
export const uiBase = body.dataset.ui;
// Whether the token may read the project's pages (links to them are shown only then).
export const canRead = 'read' in body.dataset;
const csrf = document.querySelector('meta[name="csrf-token"]').content;

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

// GET or POST one of the session-authenticated JSON routes; problems become ApiError.
export async function api(path, { method = 'GET', json } = {}) {
  const headers = { Accept: 'application/json' };
  if (method !== 'GET') headers['X-CSRF-Token'] = csrf;
  if (json !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(path.startsWith('/') ? path : `${dataBase}/${path}`, {
    method,
    headers,
    credentials: 'same-origin',
    body: json === undefined ? undefined : JSON.stringify(json),
  });
  if (response.status === 401) {
    window.location.assign(`/ui/signin?next=${encodeURIComponent(location.pathname)}`);
    throw new ApiError(401, { title: 'Signed out' });
  }
  const payload = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiError(response.status, payload);
  return payload;
}

// el('a', {href: '#', class: 'x'}, 'text', child): attributes set as attributes,
// children appended; null/undefined children are skipped so callers can use `cond && x`.
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  setAttributes(node, attributes);
  append(node, children);
  return node;
}

const SVG_NS = 'http://www.w3.org/2000/svg';
export function svg(tag, attributes = {}, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  setAttributes(node, attributes);
  append(node, children);
  return node;
}

function setAttributes(node, attributes) {
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : value);
  }
}

function append(node, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export const percent = (x, digits = 0) =>
  x === null || x === undefined ? '–' : `${(100 * x).toFixed(digits)} %`;
export const decimal = (x, digits = 2) =>
  x === null || x === undefined ? '–' : Number(x).toFixed(digits);
export const integer = (x) => (x === null || x === undefined ? '–' : Number(x).toLocaleString('en'));

export function showError(container, error) {
  container.replaceChildren(el('p', { class: 'error', role: 'alert' }, error.message));
}

export const isUrl = (text) => /^https?:\/\/\S+$/i.test(text);
