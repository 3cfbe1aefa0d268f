// One annotator: per attribute, accuracy, the confusion matrix as a heatmap and the
// value pairs they confuse most.

import { api, el, integer, percent, showError } from './common.js';
import { heatmap, intervalBar } from './charts.js';

const container = document.getElementById('attributes');
const annotator = document.getElementById('annotator').dataset.annotator;

function card(score) {
  const problems = Object.entries(score.confusion);
  return el('section', { class: 'card', 'data-attribute': score.attribute },
    el('h2', {}, score.attribute, ' ', el('span', { class: `badge ${score.status}` },
      score.status.replace('_', ' '))),
    el('dl', { class: 'facts' },
      el('dt', {}, 'accuracy'), el('dd', {}, intervalBar(score.accuracy, score.accuracy_interval),
        ' ', percent(score.accuracy, 1)),
      el('dt', {}, 'labels'), el('dd', {}, integer(score.n_labels)),
      el('dt', {}, 'agreement'), el('dd', {}, percent(score.agreement, 1)),
      el('dt', {}, 'gold accuracy'), el('dd', {}, score.gold_accuracy === null ? 'no gold seen'
        : `${percent(score.gold_accuracy, 1)} on ${score.n_gold} gold items`)),
    ...problems.map(([key, { values, counts }]) => el('figure', {},
      key ? el('figcaption', {}, `tag “${key}”`) : null, heatmap(values, counts))),
    score.confused_pairs.length
      ? el('ul', { class: 'pairs' }, score.confused_pairs.map((pair) => el('li', {}, pair.text)))
      : el('p', { class: 'muted' }, 'No value is confused often.'));
}

api(`annotators/${encodeURIComponent(annotator)}`)
  .then((detail) => container.replaceChildren(...detail.attributes.map(card)))
  .catch((error) => showError(container, error));
