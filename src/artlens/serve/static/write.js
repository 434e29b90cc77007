// The "Write" panel: POST /v1/write (JSON, or multipart with the picture), then poll the job and show the
// artlens.write/1 record's text and grounding. Plain JavaScript; server strings only through textContent.
'use strict';

(() => {
  const KEY_NAME = 'artlens.key';
  const POLL_MS = 700;
  const $ = (id) => document.getElementById(id);

  function headers() {
    const key = sessionStorage.getItem(KEY_NAME);
    return key ? { Authorization: `Bearer ${key}` } : {};
  }

  async function api(path, options = {}) {
    const response = await fetch(path, { ...options, headers: { ...headers(), ...(options.headers || {}) } });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      const message = (body.error && body.error.message) || `HTTP ${response.status}`;
      throw new Error(message);
    }
    return body;
  }

  function request() {
    const fields = { kind: $('write-kind').value, seed: Number($('write-seed').value) || 0 };
    const about = $('write-about').value.trim();
    if (about) fields.about = about;
    if ($('write-model').value) fields.style = $('write-model').value;
    const file = $('write-image').files[0];
    if (!file) {
      return { method: 'POST', body: JSON.stringify(fields), headers: { 'Content-Type': 'application/json' } };
    }
    const form = new FormData();
    for (const [name, value] of Object.entries(fields)) form.append(name, String(value));
    form.append('image', file);
    return { method: 'POST', body: form };
  }

  async function wait(job) {
    for (;;) {
      const answer = await api(`/v1/jobs/${encodeURIComponent(job.id)}`);
      const current = answer.job;
      $('write-progress').value = current.progress || 0;
      if (current.status === 'done') return api(`/v1/results/${encodeURIComponent(job.id)}`);
      if (current.status === 'failed') throw new Error(current.error || 'the job failed');
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  async function submit(event) {
    event.preventDefault();
    $('write-go').disabled = true;
    $('write-result').hidden = true;
    $('write-progress').hidden = false;
    $('write-progress').value = 0;
    $('write-status').textContent = 'Writing…';
    try {
      const accepted = await api('/v1/write', request());
      const record = await wait(accepted.job);
      $('write-text').textContent = record.text;
      $('write-grounding').textContent = record.grounding
        ? `About: ${record.grounding.description}` : `Model: ${record.model}`;
      $('write-result').hidden = false;
      $('write-status').textContent = '';
    } catch (error) {
      $('write-status').textContent = error.message;
    } finally {
      $('write-go').disabled = false;
      $('write-progress').hidden = true;
    }
  }

  document.addEventListener('DOMContentLoaded', () => {
    const form = $('write-form');
    if (form) form.addEventListener('submit', submit);
  });
})();
