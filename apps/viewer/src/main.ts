import { chooseBackend, requestedBackend } from './backend.js';
import { createDatasetView } from './datasetView.js';
import { debugHook } from './debug.js';
import { byId, el } from './dom.js';
import { reportingErrors, showError } from './errors.js';
import { createEvaluationView } from './evaluationView.js';
import { createProposalsView } from './proposalsView.js';
import { createTrainingView } from './trainingView.js';

window.addEventListener('error', (event) => showError('Unexpected error', event.error ?? event.message));
window.addEventListener('unhandledrejection', (event) => showError('Unexpected error', event.reason));

const proposals = createProposalsView();
const evaluation = createEvaluationView();
const dataset = createDatasetView({
  onDataset: (opened) => evaluation.setGroundTruth(opened.dataset, opened),
  onUseImage: (image) => {
    proposals.showImage(image);
    showView('proposals');
  },
});
const views: Record<string, HTMLElement> = {
  proposals: proposals.section,
  dataset,
  evaluation: evaluation.section,
  training: createTrainingView(),
};

const tabs = byId('tabs');
for (const name of Object.keys(views)) {
  const tab = el('button', { id: `tab-${name}`, text: name[0].toUpperCase() + name.slice(1), role: 'tab' });
  tab.addEventListener('click', () => showView(name));
  tabs.append(tab);
}
byId('views').append(...Object.values(views));
showView(new URLSearchParams(window.location.search).get('view') ?? 'proposals');

function showView(name: string): void {
  const chosen = name in views ? name : 'proposals';
  for (const [key, section] of Object.entries(views)) section.hidden = key !== chosen;
  for (const tab of tabs.children) tab.setAttribute('aria-selected', String(tab.id === `tab-${chosen}`));
}

const badge = byId('backend');
const backend = await reportingErrors('Starting TensorFlow.js failed', () =>
  chooseBackend(requestedBackend(window.location.search)),
);
if (backend) {
  debugHook.backend = backend;
  badge.textContent = `backend: ${backend.name}${backend.fallbackReason ? ' (fallback)' : ''} · ${backend.detail}`;
  badge.title =
    backend.detail + (backend.fallbackReason ? `\nfallback because ${backend.fallbackReason}` : '');
  badge.dataset.backend = backend.name;
  await proposals.restoreRememberedModel();
} else {
  badge.textContent = 'backend: none';
}
document.body.dataset.ready = 'true';
