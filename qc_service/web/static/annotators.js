// The annotators table: sorted and filtered by the API, paged by its cursors (never
// the whole list: a project may have tens of thousands of annotators).

import { api, el, integer, percent, showError, uiBase } from './common.js';
import { intervalBar } from './charts.js';

const form = document.getElementById('filters');
const table = document.getElementById('annotators');
const prev = document.getElementById('prev');
const next = document.getElementById('next');
const info = document.getElementById('page-info');

// cursors[i] opens page i; ticket numbers requests so that when filters change
// quickly only the newest answer is drawn, whatever order the answers come in.
const state = { sort: 'annotator', cursors: [null], page: 0, nextCursor: null, ticket: 0 };
const FILTERS = ['attribute', 'status', 'annotator_prefix'];

function query() {
  const params = new URLSearchParams({ sort: state.sort, limit: form.elements.limit.value });
  for (const name of FILTERS) {
    if (form.elements[name].value) params.set(name, form.elements[name].value);
  }
  const cursor = state.cursors[state.page];
  if (cursor) params.set('cursor', cursor);
  return params;
}

// Sort and filters live in the address too, so Back from an annotator's page and a
// shared link show the same table (from its first page).
function restoreFromAddress() {
  const params = new URLSearchParams(window.location.search);
  for (const name of [...FILTERS, 'limit']) {
    if (params.has(name)) form.elements[name].value = params.get(name);
  }
  if (params.has('sort')) state.sort = params.get('sort');
  const key = state.sort.replace(/^-/, '');
  for (const th of table.querySelectorAll('th[data-sort]')) {
    if (th.dataset.sort === key) {
      th.setAttribute('aria-sort', state.sort.startsWith('-') ? 'descending' : 'ascending');
    } else {
      th.removeAttribute('aria-sort');
    }
  }
}

function saveToAddress() {
  const params = query();
  params.delete('cursor');
  window.history.replaceState(null, '', `?${params}`);
}

async function load() {
  const ticket = ++state.ticket;
  saveToAddress();
  table.setAttribute('aria-busy', 'true');
  try {
    const page = await api(`annotators?${query()}`);
    if (ticket !== state.ticket) return;
    state.nextCursor = page.next_cursor;
    table.tBodies[0].replaceChildren(...page.annotators.map(row));
    if (!page.annotators.length) {
      table.tBodies[0].append(el('tr', {}, el('td', { colspan: 8, class: 'muted' },
        'No annotator matches (or no fit yet).')));
    }
    const size = Number(form.elements.limit.value);
    info.textContent = page.annotators.length
      ? `rows ${state.page * size + 1}–${state.page * size + page.annotators.length}` : '';
    prev.disabled = state.page === 0;
    next.disabled = !state.nextCursor;
  } catch (error) {
    showError(info, error);
  } finally {
    if (ticket === state.ticket) table.removeAttribute('aria-busy');
  }
}

function row(score) {
  const link = `${uiBase}/annotators/${encodeURIComponent(score.annotator)}`;
  return el('tr', { 'data-annotator': score.annotator, 'data-status': score.status },
    el('td', {}, el('a', { href: link }, score.annotator)),
    el('td', {}, score.attribute),
    el('td', { class: 'wide' }, intervalBar(score.accuracy, score.accuracy_interval),
      el('span', { class: 'figure' }, percent(score.accuracy, 1))),
    el('td', { class: 'num' }, integer(score.n_labels)),
    el('td', { class: 'num' }, percent(score.agreement, 1)),
    el('td', { class: 'num' }, score.gold_accuracy === null ? '–'
      : el('span', { title: `${score.n_gold} gold items` }, percent(score.gold_accuracy, 1))),
    el('td', { class: 'num' }, score.spammer_score.toFixed(2)),
    el('td', {}, el('span', { class: `badge ${score.status}` }, score.status.replace('_', ' '))));
}

function restart() {
  state.cursors = [null];
  state.page = 0;
  load();
}

// A click on a sortable header sorts by it, figures highest first; a second click
// reverses the order. The API sorts annotator ids ascending only.
function nextSort(key) {
  if (key === 'annotator') return key;
  return state.sort === `-${key}` ? key : `-${key}`;
}

for (const th of table.querySelectorAll('th[data-sort]')) {
  th.querySelector('button').addEventListener('click', () => {
    state.sort = nextSort(th.dataset.sort);
    const ascending = !state.sort.startsWith('-');
    for (const other of table.querySelectorAll('th[data-sort]')) other.removeAttribute('aria-sort');
    th.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
    restart();
  });
}
form.addEventListener('change', restart);
// Enter in the prefix field commits it (a change): the form itself goes nowhere.
form.addEventListener('submit', (event) => event.preventDefault());
// With thousands of annotators, paging to one is hopeless: open them by id.
document.getElementById('find').addEventListener('submit', (event) => {
  event.preventDefault();
  const id = event.target.elements.annotator.value.trim();
  if (id) window.location.assign(`${uiBase}/annotators/${encodeURIComponent(id)}`);
});
prev.addEventListener('click', () => { state.page -= 1; load(); });
next.addEventListener('click', () => {
  state.cursors[state.page + 1] = state.nextCursor;
  state.page += 1;
  load();
});
restoreFromAddress();
load();
