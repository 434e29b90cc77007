// The "Tags & text search" panel: POST /v1/tag for uploaded images (tag chips with calibrated scores) and
// POST /v1/search/text over a registered index (a gallery of the best matches). Plain JavaScript, no build
// step; it shares only the API key the page keeps in this tab's sessionStorage (app.js signs in).
(() => {
  'use strict';
  const KEY_NAME = 'artlens.key';
  const $ = (id) => document.getElementById(id);

  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(props || {})) {
      if (name === 'class') node.className = value;
      else if (name === 'text') node.textContent = value;
      else node.setAttribute(name, value);
    }
    for (const child of children) if (child !== null && child !== undefined) node.append(child);
    return node;
  }

  async function call(path, options = {}) {
    const key = sessionStorage.getItem(KEY_NAME);
    if (!key) throw new Error('sign in first');
    const headers = new Headers(options.headers || {});
    headers.set('Authorization', `Bearer ${key}`);
    const response = await fetch(path, { ...options, headers, credentials: 'omit', cache: 'no-store' });
    if (!response.ok) {
      let message = `HTTP ${response.status}`;
      try { message = (await response.json()).error.message; } catch (err) { /* keep the status */ }
      throw new Error(message);
    }
    return response;
  }

  function chips(tags) {
    const list = el('ul', { class: 'chips', 'data-testid': 'tag-chips' });
    for (const t of tags) {
      list.append(el('li', { class: 'chip', title: `calibrated probability ${t.score}` },
        `${t.tag} `, el('span', { class: 'muted', text: `${Math.round(t.score * 100)}%` })));
    }
    return list;
  }

  async function tagFiles(event) {
    event.preventDefault();
    const files = $('tag-files').files;
    const status = $('tag-status');
    const results = $('tag-results');
    results.replaceChildren();
    $('tag-errors').replaceChildren();
    if (!files.length) return;
    const form = new FormData();
    for (const f of files) form.append('files', f, f.name);
    form.append('top_k', $('tag-k').value || '5');
    status.textContent = `tagging ${files.length} image(s)…`;
    try {
      const report = await (await call('/v1/tag', { method: 'POST', body: form })).json();
      const byName = new Map(Array.from(files, (f) => [f.name, f]));
      for (const image of report.images) {
        const file = byName.get(image.path);
        const img = file ? el('img', { alt: image.path, src: URL.createObjectURL(file) }) : null;
        results.append(el('div', { class: 'card' }, img, el('div', { class: 'card-head', text: image.path }),
          chips(image.tags)));
      }
      for (const e of report.errors) $('tag-errors').append(el('li', { text: e.error }));
      status.textContent = `${report.images.length} image(s) tagged from ${report.vocabulary_size} tags`;
    } catch (err) {
      status.textContent = `tagging failed: ${err.message}`;
    }
  }

  async function loadIndexes() {
    const select = $('text-index');
    if (select.options.length || !sessionStorage.getItem(KEY_NAME)) return;
    try {
      const body = await (await call('/v1/indexes')).json();
      for (const name of Object.keys(body.indexes)) select.append(el('option', { value: name, text: name }));
    } catch (err) { /* no index: the search form says so when used */ }
  }

  async function thumbnail(index, path) {
    const url = `/v1/indexes/${encodeURIComponent(index)}/thumbnail?path=${encodeURIComponent(path)}`;
    try {
      return URL.createObjectURL(await (await call(url)).blob());
    } catch (err) {
      return null;
    }
  }

  async function searchText(event) {
    event.preventDefault();
    await loadIndexes();
    const status = $('text-status');
    const results = $('text-results');
    results.replaceChildren();
    const index = $('text-index').value;
    const query = $('text-query').value.trim();
    if (!query) return;
    if (!index) { status.textContent = 'no index is registered with this server (artlens serve --index)'; return; }
    status.textContent = `searching ${index} for “${query}”…`;
    try {
      const body = JSON.stringify({ index, query, k: Number($('text-k').value || 12) });
      const report = await (await call('/v1/search/text', {
        method: 'POST', body, headers: { 'Content-Type': 'application/json' } })).json();
      for (const hit of report.results) {
        const img = el('img', { alt: hit.path });
        results.append(el('div', { class: 'card', 'data-testid': 'text-hit' }, img,
          el('div', { class: 'card-head' }, el('span', { text: `#${hit.rank} ${hit.path.split('/').pop()}` }),
            el('span', { class: 'muted', text: hit.score.toFixed(3) }))));
        thumbnail(index, hit.path).then((src) => { if (src) img.src = src; });
      }
      status.textContent = `${report.results.length} image(s) for “${report.query}”`;
    } catch (err) {
      status.textContent = `search failed: ${err.message}`;
    }
  }

  document.addEventListener('DOMContentLoaded', () => {
    $('tag-form').addEventListener('submit', tagFiles);
    $('text-form').addEventListener('submit', searchText);
    $('text-query').addEventListener('focus', loadIndexes);
  });
})();
