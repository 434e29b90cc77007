// The "Generate" panel: new images from a GAN the service registered (artlens serve --gan NAME=MODEL).
// It lists GET /v1/gans once the page is signed in, queues POST /v1/generate, polls the job and shows the
// grid PNG, fetched with the bearer key (as a blob: URL, like every image behind the key). Own file, own
// state: it shares nothing with app.js but the session's key and the page's elements.
(() => {
  'use strict';

  const KEY_NAME = 'artlens.key';
  const POLL_MS = 700;
  const $ = (id) => document.getElementById(id);
  let gridUrl = null;

  function headers(extra = {}) {
    const h = new Headers(extra);
    const key = sessionStorage.getItem(KEY_NAME);
    if (key) h.set('Authorization', `Bearer ${key}`);
    return h;
  }

  async function call(path, options = {}) {
    const response = await fetch(path, { ...options, headers: headers(options.headers || {}),
      credentials: 'omit', cache: 'no-store' });
    if (!response.ok) {
      let message = `HTTP ${response.status}`;
      try {
        const body = await response.json();
        if (body && body.error) message = String(body.error.message);
      } catch (err) { /* not JSON */ }
      throw new Error(message);
    }
    return response;
  }

  function status(text) { $('gan-status').textContent = text; }

  function clear() {
    if (gridUrl) URL.revokeObjectURL(gridUrl);
    gridUrl = null;
    $('gan-grid').removeAttribute('src');
    $('gan-result').hidden = true;
  }

  async function loadGans() {
    let gans = {};
    try {
      gans = (await (await call('/v1/gans')).json()).gans || {};
    } catch (err) { /* signed out or refused: the panel stays hidden */ }
    const names = Object.keys(gans).sort();
    $('gan-model').replaceChildren(...names.map((name) => {
      const g = gans[name];
      const option = document.createElement('option');
      option.value = name;
      option.textContent = `${name} (${g.arch}, ${g.size} px, ${g.kimg ?? '?'} kimg)`;
      return option;
    }));
    $('generate').hidden = names.length === 0;
  }

  async function poll(id) {
    let job;
    try {
      job = (await (await call(`/v1/jobs/${encodeURIComponent(id)}`)).json()).job;
    } catch (err) {
      status(`Lost the job: ${err.message}`);
      $('gan-go').disabled = false;
      return;
    }
    $('gan-progress').value = Number(job.progress) || 0;
    if (job.status === 'done') {
      await show(id);
    } else if (job.status === 'failed') {
      $('gan-progress').hidden = true;
      $('gan-go').disabled = false;
      status(`Failed: ${job.error || 'unknown error'}`);
    } else {
      status(job.status === 'queued' ? 'Waiting for a free worker…' : 'Generating…');
      setTimeout(() => poll(id), POLL_MS);
    }
  }

  async function show(id) {
    try {
      const summary = await (await call(`/v1/results/${encodeURIComponent(id)}`)).json();
      const blob = await (await call(summary.files.grid)).blob();
      clear();
      gridUrl = URL.createObjectURL(blob);
      $('gan-grid').src = gridUrl;
      $('gan-result').hidden = false;
      $('gan-progress').value = 1;
      status(`${summary.n} images of ${summary.size} px from ${summary.model}, seed ${summary.seed}` +
        (summary.truncation ? `, truncation ${summary.truncation}.` : '.'));
    } catch (err) {
      status(`No result: ${err.message}`);
    } finally {
      $('gan-go').disabled = false;
    }
  }

  async function generate(event) {
    event.preventDefault();
    const body = { model: $('gan-model').value, n: Number($('gan-n').value), seed: Number($('gan-seed').value) };
    const cut = $('gan-truncation').value.trim();
    if (cut) body.truncation = Number(cut);
    $('gan-go').disabled = true;
    $('gan-progress').hidden = false;
    $('gan-progress').value = 0;
    status('Sending…');
    try {
      const answer = await (await call('/v1/generate', { method: 'POST', body: JSON.stringify(body),
        headers: { 'Content-Type': 'application/json' } })).json();
      poll(answer.job.id);
    } catch (err) {
      $('gan-progress').hidden = true;
      $('gan-go').disabled = false;
      status(`Refused: ${err.message}`);
    }
  }

  function start() {
    $('gan-form').addEventListener('submit', generate);
    const app = $('app');
    const follow = () => {
      if (app.hidden) {
        clear();
        $('generate').hidden = true;
        status('');
      } else {
        loadGans();
      }
    };
    new MutationObserver(follow).observe(app, { attributes: true, attributeFilter: ['hidden'] });
    follow();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
