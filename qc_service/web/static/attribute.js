// One attribute across the project: statuses, value confusion, reliability on gold.

import { api, decimal, el, integer, percent, showError } from './common.js';
import { heatmap, reliabilityDiagram, statusBar, statusLegend } from './charts.js';

const name = document.getElementById('attribute').dataset.attribute;

function draw(view) {
  const total = Object.values(view.statuses).reduce((a, b) => a + b, 0);
  document.getElementById('summary').replaceChildren(
    el('div', { class: 'count' }, el('strong', {}, integer(total)), el('span', {}, 'items')),
    el('div', { class: 'count' }, el('strong', {}, decimal(view.alpha)), el('span', {}, 'Krippendorff α')),
    el('div', { class: 'count' }, el('strong', {}, percent(view.estimated_accuracy, 1)),
      el('span', {}, 'estimated accuracy')),
    el('div', { class: 'count wide' }, statusBar(view.statuses, 320, 18),
      el('span', { class: 'legend' }, ...statusLegend())));

  const confusion = document.getElementById('confusion');
  const problems = Object.entries(view.confusion || {});
  confusion.replaceChildren(...(problems.length
    ? problems.map(([key, { values, counts }]) =>
      el('figure', {}, key ? el('figcaption', {}, `tag “${key}”`) : null, heatmap(values, counts)))
    : [el('p', { class: 'muted' }, 'No fit with a confusion matrix yet: refit the project.')]));
  document.getElementById('pairs').replaceChildren(
    ...view.confused_pairs.map((pair) => el('li', {}, pair.text)));

  const calibration = document.getElementById('calibration');
  const bins = view.calibration || [];
  calibration.replaceChildren(bins.length
    ? reliabilityDiagram(bins)
    : el('p', { class: 'muted' }, 'No gold answer on a labelled item yet: post control answers ' +
      '(POST /gold) or give review verdicts to see how far confidence can be trusted.'));
}

api(`attributes/${encodeURIComponent(name)}`)
  .then(draw)
  .catch((error) => showError(document.getElementById('summary'), error));
