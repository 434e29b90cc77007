// The "Write" panel: POST /v1/write with stream (JSON, or multipart with the picture); the text is shown as
// the model writes it (Server-Sent Events), then the artlens.write/1 record's text and grounding. Plain
// JavaScript; server strings only through textContent.
'use strict';

(() => {
  const KEY_NAME = 'artlens.key';
  const $ = (id) => document.getElementById(id);

  function headers() {
    const key = sessionStorage.getItem(KEY_NAME);
    return key ? { Authorization: `Bearer ${key}` } : {};
  }

  function request() {
    const fields = { kind: $('write-kind').value, seed: Number($('write-seed').value) || 0, stream: true };
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

  // Server-Sent Events: blocks separated by a blank line, each with "event: NAME" and "data: JSON" lines.
  function parseEvents(buffer, onEvent) {
    let cut = buffer.indexOf('\n\n');
    while (cut >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      let name = 'message';
      const data = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) name = line.slice(7);
        else if (line.startsWith('data: ')) data.push(line.slice(6));
      }
      if (data.length) onEvent(name, JSON.parse(data.join('\n')));
      cut = buffer.indexOf('\n\n');
    }
    return buffer;
  }

  // POST /v1/write with stream: the text is shown as it arrives; the record (last event) settles it.
  async function stream(options) {
    const sent = { ...options, headers: { ...headers(), ...(options.headers || {}) } };
    const response = await fetch('/v1/write', sent);
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      throw new Error((body.error && body.error.message) || `HTTP ${response.status}`);
    }
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    let record = null;
    let failure = null;
    const onEvent = (name, data) => {
      if (name === 'text') {
        $('write-text').textContent += data.text;
        $('write-result').hidden = false;
      } else if (name === 'record') {
        record = data;
      } else if (name === 'error') {
        failure = data.message;
      }
    };
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer = parseEvents(buffer + decoder.decode(value, { stream: true }), onEvent);
    }
    parseEvents(buffer + decoder.decode() + '\n\n', onEvent);
    if (failure) throw new Error(failure);
    if (!record) throw new Error('the answer ended before the text was finished');
    return record;
  }

  async function submit(event) {
    event.preventDefault();
    $('write-go').disabled = true;
    $('write-result').hidden = true;
    $('write-text').textContent = '';
    $('write-grounding').textContent = '';
    $('write-progress').hidden = false;
    $('write-progress').removeAttribute('value');
    $('write-status').textContent = 'Writing…';
    try {
      const record = await stream(request());
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
