// The review page: claim a batch, then for each item see the evidence and give a
// verdict by click or keyboard (1-9 pick, Enter confirm, n/→ next, p/← previous).

import { api, canRead, el, isUrl, percent, showError, uiBase } from './common.js';
import { distributionBars } from './charts.js';

const claimForm = document.getElementById('claim');
const itemBox = document.getElementById('item');
const progress = document.getElementById('progress');
const queueInfo = document.getElementById('queue-info');

// claims: the leased (item, attribute) entries; picked: the value(s) chosen for the
// current one; done: verdicts given, by claim index.
const batch = { claims: [], index: 0, picked: null, done: new Map(), items: new Map() };

async function showQueueSize() {
  try {
    const page = await api('review/queue?limit=100');
    const open = page.queue.filter((entry) => !entry.claimed_by).length;
    queueInfo.textContent = page.queue.length
      ? `${page.next_cursor ? 'over 100' : page.queue.length} flagged items in the queue, ` +
        `${open}${page.next_cursor ? '+' : ''} not claimed by anyone.`
      : 'The queue is empty: nothing is flagged right now.';
  } catch (error) {
    showError(queueInfo, error);
  }
}

async function claim(event) {
  event.preventDefault();
  const body = { limit: Number(claimForm.elements.limit.value) };
  if (claimForm.elements.attribute.value) body.attribute = claimForm.elements.attribute.value;
  try {
    const { claims } = await api('review/claim', { method: 'POST', json: body });
    Object.assign(batch, { claims, index: 0, picked: null, done: new Map() });
    if (!claims.length) {
      itemBox.hidden = true;
      progress.hidden = true;
      queueInfo.textContent = 'Nothing left to claim: every flagged item is reviewed or leased.';
      return;
    }
    await show(0);
  } catch (error) {
    showError(queueInfo, error);
  }
}

const isMultilabel = (entry) => Array.isArray(entry.label);
const valuesOf = (entry) => Object.keys(entry.distribution);

async function itemResults(item) {
  if (!batch.items.has(item)) batch.items.set(item, await api(`items/${encodeURIComponent(item)}`));
  return batch.items.get(item);
}

async function show(index) {
  batch.index = index;
  const entry = batch.claims[index];
  const given = batch.done.get(index);
  batch.picked = given !== undefined ? given : isMultilabel(entry) ? [...entry.label] : null;
  drawProgress();
  const details = await itemResults(entry.item);
  const behind = details.attributes.find((a) => a.attribute === entry.attribute);
  itemBox.hidden = false;
  itemBox.dataset.item = entry.item;
  itemBox.dataset.attribute = entry.attribute;
  itemBox.replaceChildren(
    el('header', {},
      el('h2', {}, entry.item, el('span', { class: 'muted' }, ` · ${entry.attribute}`)),
      el('div', { class: 'flags' }, entry.flags.map((flag) =>
        el('span', { class: `badge flag-${flag}` }, flag.replace('_', ' '))),
      el('span', { class: 'muted', title: 'estimated probability that the label is wrong' },
        `priority ${entry.priority.toFixed(2)}`))),
    el('div', { class: 'evidence' },
      isUrl(entry.item) ? el('img', { class: 'item-image', src: entry.item, alt: entry.item,
        referrerpolicy: 'no-referrer' }) : null,
      el('div', {},
        el('h3', {}, 'Model', el('span', { class: 'muted' },
          ` says ${[entry.label].flat().join(', ') || 'none'} at ${percent(entry.confidence, 1)}`)),
        distributionBars(entry.distribution),
        // With gold the model's distribution is pinned to it: say so, the conflict
        // between the gold answer and the labels is what the expert must settle.
        behind.gold !== null ? el('p', { class: 'gold' }, `${behind.gold_source} answer: `,
          el('strong', {}, [behind.gold].flat().join(', '))) : null),
      el('div', {},
        el('h3', {}, `Labels (${behind.labels.length})`),
        labelsTable(behind.labels))),
    el('div', { class: 'choices', role: 'group', 'aria-label': 'verdict' },
      valuesOf(entry).map((value, i) => el('button', {
        type: 'button', class: 'choice', 'data-value': value,
        onclick: () => pick(i),
      }, el('kbd', {}, i < 9 ? String(i + 1) : ''), value))),
    el('div', { class: 'actions' },
      el('button', { type: 'button', onclick: () => move(-1), disabled: index === 0 }, '← Previous'),
      el('button', { type: 'button', class: 'primary', id: 'confirm', onclick: confirm }, 'Confirm verdict'),
      el('button', { type: 'button', onclick: () => move(1),
        disabled: index === batch.claims.length - 1 }, 'Next →'),
      el('span', { id: 'verdict-state', role: 'status', 'aria-live': 'polite', class: 'muted' },
        given !== undefined ? `verdict given: ${[given].flat().join(', ')}` : '')));
  drawPicked();
}

function labelsTable(labels) {
  return el('table', { class: 'data compact' },
    el('thead', {}, el('tr', {}, el('th', {}, 'annotator'), el('th', {}, 'gave'),
      el('th', { class: 'num' }, 'accuracy'), el('th', {}, 'status'))),
    el('tbody', {}, labels.map((label) => el('tr', {},
      el('td', {}, canRead
        ? el('a', { href: `${uiBase}/annotators/${encodeURIComponent(label.annotator)}` },
          label.annotator)
        : label.annotator),
      el('td', {}, [label.value].flat().join(', ') || '∅'),
      el('td', { class: 'num' }, percent(label.annotator_accuracy, 0)),
      el('td', {}, label.annotator_status
        ? el('span', { class: `badge ${label.annotator_status}` },
          label.annotator_status.replace('_', ' ')) : '–')))));
}

function pick(i) {
  const entry = batch.claims[batch.index];
  const value = valuesOf(entry)[i];
  if (value === undefined) return;
  if (isMultilabel(entry)) {
    const tags = new Set(batch.picked);
    if (tags.has(value)) tags.delete(value);
    else tags.add(value);
    batch.picked = valuesOf(entry).filter((tag) => tags.has(tag));
  } else {
    batch.picked = value;
  }
  drawPicked();
}

function drawPicked() {
  const chosen = new Set([batch.picked].flat());
  for (const button of itemBox.querySelectorAll('.choice')) {
    button.setAttribute('aria-pressed', chosen.has(button.dataset.value) ? 'true' : 'false');
  }
  document.getElementById('confirm').disabled = batch.picked === null;
}

async function confirm() {
  const index = batch.index;
  const entry = batch.claims[index];
  if (batch.picked === null) return;
  const status = document.getElementById('verdict-state');
  try {
    await api(`review/${encodeURIComponent(entry.item)}/verdict`, {
      method: 'POST', json: { attribute: entry.attribute, value: batch.picked },
    });
    batch.done.set(index, batch.picked);
    status.textContent = `verdict given: ${[batch.picked].flat().join(', ')}`;
    const open = batch.claims.findIndex((_, i) => i > index && !batch.done.has(i));
    if (open >= 0) await show(open);
    else drawProgress();
  } catch (error) {
    status.textContent = error.message;
    status.classList.add('error');
  }
}

function move(step) {
  const target = batch.index + step;
  if (target >= 0 && target < batch.claims.length) show(target);
}

function drawProgress() {
  const total = batch.claims.length;
  const done = batch.done.size;
  progress.hidden = false;
  progress.querySelector('.bar').replaceChildren(...batch.claims.map((_, i) => el('span', {
    class: batch.done.has(i) ? 'step done' : i === batch.index ? 'step current' : 'step',
  })));
  progress.querySelector('.label').textContent = done === total
    ? `All ${total} verdicts given. Claim another batch when ready.`
    : `item ${batch.index + 1} of ${total} · ${done} verdict${done === 1 ? '' : 's'} given`;
}

document.addEventListener('keydown', (event) => {
  if (itemBox.hidden || event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.target.closest('input, select, textarea')) return;
  if (/^[1-9]$/.test(event.key)) pick(Number(event.key) - 1);
  // Enter confirms wherever the focus is (after a click it sits on a choice button,
  // which Enter would otherwise press again).
  else if (event.key === 'Enter') confirm();
  else if (event.key === 'n' || event.key === 'ArrowRight') move(1);
  else if (event.key === 'p' || event.key === 'ArrowLeft') move(-1);
  else return;
  event.preventDefault();
});

claimForm.addEventListener('submit', claim);
showQueueSize();
