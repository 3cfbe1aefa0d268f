// Project overview: counts, per-attribute health, the last fit, refit with job progress.

import { api, decimal, el, integer, percent, showError, uiBase } from './common.js';
import { statusBar, statusLegend } from './charts.js';

const JOB_POLL_MS = 700;

async function load() {
  const { project, agreement, fit } = await api('overview');
  drawCounts(project.counts, agreement);
  drawAttributes(project, agreement, fit);
  drawFit(fit);
}

function drawCounts(counts, agreement) {
  const flagged = agreement.attributes.reduce((sum, a) => sum + (a.statuses.flagged || 0), 0);
  const cards = [['labels', counts.labels], ['items', counts.items],
    ['annotators', counts.annotators], ['gold answers', counts.gold], ['flagged', flagged]];
  document.getElementById('counts').replaceChildren(...cards.map(([name, n]) =>
    el('div', { class: 'count', 'data-count': name }, el('strong', {}, integer(n)), el('span', {}, name))));
}

function drawAttributes(project, agreement, fit) {
  const byName = Object.fromEntries(agreement.attributes.map((a) => [a.attribute, a]));
  const rows = project.attributes.map(({ name, kind }) => {
    const a = byName[name];
    const fitted = fit && fit.attributes[name];
    return el('tr', { 'data-attribute': name },
      el('td', {}, el('a', { href: `${uiBase}/attributes/${encodeURIComponent(name)}` }, name),
        el('span', { class: 'muted kind' }, kind)),
      el('td', {}, a ? statusBar(a.statuses) : el('span', { class: 'muted' }, 'not fitted yet')),
      el('td', { class: 'num' }, decimal(a && a.alpha)),
      el('td', { class: 'num' }, percent(a && a.estimated_accuracy, 1)),
      el('td', {}, fitted ? fitted.method : '–'),
      el('td', {}, fitted ? el('span', { class: fitted.converged ? 'ok' : 'warn' },
        fitted.converged ? `yes, ${fitted.iterations} it.` : `no (${fitted.iterations} it.)`) : '–'));
  });
  document.querySelector('#attributes tbody').replaceChildren(...rows);
  document.getElementById('status-legend').replaceChildren(...statusLegend());
}

function drawFit(fit) {
  const section = document.getElementById('last-fit');
  if (!fit) {
    section.replaceChildren(el('h2', {}, 'Last fit'), el('p', { class: 'muted' },
      'No fit yet: the first one runs shortly after labels arrive.'));
    return;
  }
  const when = new Date(fit.created_at);
  const converged = Object.values(fit.attributes).every((a) => a.converged);
  section.replaceChildren(el('h2', {}, 'Last fit'), el('dl', { class: 'facts' },
    el('dt', {}, 'version'), el('dd', { id: 'fit-version' }, `#${fit.id}`),
    el('dt', {}, 'method'), el('dd', {}, fit.method),
    el('dt', {}, 'when'), el('dd', { title: fit.created_at }, when.toLocaleString()),
    el('dt', {}, 'took'), el('dd', {}, fit.seconds === null ? '–' : `${fit.seconds.toFixed(2)} s`),
    el('dt', {}, 'converged'), el('dd', { class: converged ? 'ok' : 'warn' },
      converged ? 'every attribute' : 'not everywhere: see the table')));
}

async function refit(button, status) {
  button.disabled = true;
  try {
    let job = await api('fits', { method: 'POST' });
    while (job.state === 'queued' || job.state === 'running') {
      status.textContent = job.state === 'queued' ? 'queued…' : 'running…';
      status.dataset.state = job.state;
      await new Promise((resolve) => setTimeout(resolve, JOB_POLL_MS));
      job = await api(`/ui/data/jobs/${job.id}`);
    }
    status.dataset.state = job.state;
    const took = job.started_at && job.finished_at
      ? ` in ${((new Date(job.finished_at) - new Date(job.started_at)) / 1000).toFixed(1)} s` : '';
    status.textContent = job.state === 'done' ? `done${took}` : `failed: ${job.error}`;
    await load();
  } catch (error) {
    status.textContent = error.message;
  } finally {
    button.disabled = false;
  }
}

const refitButton = document.getElementById('refit');
if (refitButton) {
  refitButton.addEventListener('click', () => refit(refitButton, document.getElementById('job')));
}
load().catch((error) => showError(document.getElementById('counts'), error));
