// The artlens web page: plain JavaScript, no dependencies, no build step.
// Every server string is shown with textContent (never parsed as markup); every API call sends the key as a
// bearer token; the key lives in this tab's sessionStorage only.
'use strict';

(() => {
  const ROUTES = {
    models: '/v1/models',
    assess: '/v1/assess',
    explain: '/v1/explain',
    classify: '/v1/classify',
    stylize: '/v1/stylize',
    compose: '/v1/compose',
    harmonize: '/v1/harmonize',
    job: '/v1/jobs/{job_id}',
    result: '/v1/results/{job_id}',
  };
  const KEY_NAME = 'artlens.key';
  const BATCH = 8;          // images per assess request (the server's default limit is 16)
  const POLL_MS = 1000;
  const N_PRESETS = 26;
  const MAX_SIZE = { fast: 2048, gatys: 1024 };

  const $ = (id) => document.getElementById(id);
  const state = { key: null, results: [], urls: [], classifyUrls: [], stylizeUrl: null, polling: null,
    musicUrls: [],
    detail: { item: null, url: null, abort: null, opener: null } };

  class ApiError extends Error {
    constructor(status, code, message, retryAfter) {
      super(message);
      this.status = status;
      this.code = code;
      this.retryAfter = retryAfter;
    }
  }

  function route(name, id) {
    const path = ROUTES[name];
    return id === undefined ? path : path.replace('{job_id}', encodeURIComponent(id));
  }

  // -- elements ---------------------------------------------------------------------------------------------

  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(props || {})) {
      if (name === 'class') node.className = value;
      else if (name === 'text') node.textContent = value;
      else node.setAttribute(name, value);
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function fmt(value, digits = 1) {
    if (value === null || value === undefined) return '–';
    if (typeof value === 'number') return Number.isInteger(value) ? String(value) : value.toFixed(digits);
    if (Array.isArray(value)) return value.map((v) => fmt(v, digits)).join(', ');
    return String(value);
  }

  function listErrors(list, items) {
    for (const item of items) list.append(el('li', { text: item }));
  }

  // -- API --------------------------------------------------------------------------------------------------

  async function api(path, options = {}) {
    const headers = new Headers(options.headers || {});
    headers.set('Authorization', `Bearer ${state.key}`);
    let response;
    try {
      response = await fetch(path, { ...options, headers, credentials: 'omit', cache: 'no-store' });
    } catch (err) {
      throw new ApiError(0, 'network', 'the server cannot be reached');
    }
    if (!response.ok) {
      let code = 'http_error';
      let message = `HTTP ${response.status}`;
      try {
        const body = await response.json();
        if (body && body.error) {
          code = String(body.error.code);
          message = String(body.error.message);
        }
      } catch (err) { /* not JSON: keep the status */ }
      const error = new ApiError(response.status, code, message, response.headers.get('Retry-After'));
      if (response.status === 401 && path !== ROUTES.models) signOut('key refused');
      throw error;
    }
    return response;
  }

  const apiJson = async (path, options) => (await api(path, options)).json();

  // -- sign in ----------------------------------------------------------------------------------------------

  async function signIn(key) {
    state.key = key;
    let body;
    try {
      body = await apiJson(route('models'));
    } catch (err) {
      state.key = null;
      sessionStorage.removeItem(KEY_NAME);
      $('signin-error').textContent = err.status === 401 ? 'key refused' : `cannot sign in: ${err.message}`;
      return;
    }
    sessionStorage.setItem(KEY_NAME, key);
    $('signin-error').textContent = '';
    $('key').value = '';
    $('signin').hidden = true;
    $('app').hidden = false;
    $('signout').hidden = false;
    $('who').textContent = `key ${key.split('_')[1] || ''}`.trim();
    showModels(body.models || {});
  }

  function signOut(message) {
    state.key = null;
    sessionStorage.removeItem(KEY_NAME);
    if (state.polling) clearTimeout(state.polling);
    state.polling = null;
    closeDetail();
    clearResults();
    clearStylize();
    clearCompose();
    clearClassify();
    $('app').hidden = true;
    $('signout').hidden = true;
    $('signin').hidden = false;
    $('who').textContent = '';
    $('signin-error').textContent = message || '';
  }

  // -- assess -----------------------------------------------------------------------------------------------

  function isImage(file) {
    return file.type.startsWith('image/') || /\.(jpe?g|png|webp|tiff?|bmp|gif)$/i.test(file.name);
  }

  async function assessFiles(fileList) {
    const files = Array.from(fileList);
    const errors = $('assess-errors');
    const images = files.filter(isImage);
    listErrors(errors, files.filter((f) => !isImage(f)).map((f) => `${f.name}: not an image, not sent`));
    if (!images.length) return;
    const policy = $('policy').value;
    let done = 0;
    for (let start = 0; start < images.length; start += BATCH) {
      const batch = images.slice(start, start + BATCH);
      $('assess-status').textContent = `Assessing ${done + 1}–${done + batch.length} of ${images.length}…`;
      const form = new FormData();
      for (const file of batch) form.append('files', file, file.name);
      form.append('policy', policy);
      try {
        const report = await apiJson(route('assess'), { method: 'POST', body: form });
        addReport(report, batch);
      } catch (err) {
        if (err.status === 401) return;
        listErrors(errors, [`${batch.map((f) => f.name).join(', ')}: ${err.message}`]);
      }
      done += batch.length;
    }
    $('assess-status').textContent = `Sent ${images.length} image(s) with policy ${policy}.`;
  }

  function addReport(report, batch) {
    // The report names uploads by their base names; match them to the files, in order, for thumbnails.
    const byName = new Map();
    for (const file of batch) {
      const name = file.name.split(/[\\/]/).pop();
      if (!byName.has(name)) byName.set(name, []);
      byName.get(name).push(file);
    }
    const take = (name) => (byName.get(name) || []).shift();
    for (const image of report.images || []) {
      const file = take(image.path);
      const url = file ? URL.createObjectURL(file) : null;
      if (url) state.urls.push(url);
      state.results.push({ image, url, file: file || null, policy: report.policy ? report.policy.name : '' });
    }
    listErrors($('assess-errors'), (report.errors || []).map((e) => {
      take(e.path);
      return errorLine(e);
    }));
    render();
  }

  // One report error as a line: the server's message already starts with the file's name in most cases.
  function errorLine(e) {
    return String(e.error).startsWith(`${e.path}: `) ? e.error : `${e.path}: ${e.error}`;
  }

  function quality(item) {
    const q = item.image.scores ? item.image.scores.quality : null;
    return typeof q === 'number' ? q : -Infinity;
  }

  function render() {
    const verdict = $('filter').value;
    const order = $('sort').value;
    const shown = state.results.filter((r) => !verdict || verdict === 'all' || r.image.verdict === verdict);
    shown.sort((a, b) => {
      if (order === 'name') return String(a.image.path).localeCompare(String(b.image.path));
      const d = quality(a) - quality(b);
      return order === 'quality-asc' ? d : -d;
    });
    $('gallery').replaceChildren(...shown.map(card));
    const count = { pass: 0, review: 0, fail: 0 };
    for (const r of state.results) if (r.image.verdict in count) count[r.image.verdict] += 1;
    $('summary').textContent = state.results.length
      ? `${shown.length} shown of ${state.results.length}: ${count.pass} pass, ${count.review} review, ` +
        `${count.fail} fail`
      : '';
  }

  function table(caption, values) {
    const rows = Object.entries(values || {}).map(([k, v]) => el('tr', {}, el('th', { text: k }),
                                                                  el('td', { text: fmt(v, 3) })));
    if (!rows.length) return null;
    return el('table', {}, el('caption', { text: caption }), el('tbody', {}, ...rows));
  }

  function checksTable(checks) {
    if (!checks || !checks.length) return null;
    const head = el('tr', {}, ...['check', 'status', 'value', 'threshold'].map((t) => el('th', { text: t })));
    const rows = checks.map((c) => el('tr', { class: `check-${c.status}`, title: String(c.message || '') },
      el('td', { text: c.id }), el('td', { text: c.status }), el('td', { text: fmt(c.value, 3) }),
      el('td', { text: fmt(c.threshold, 3) })));
    return el('table', {}, el('caption', { text: 'checks' }), el('thead', {}, head), el('tbody', {}, ...rows));
  }

  // Each reason with its own status (fail or review); reports without reason_checks take the verdict's.
  function reasonItems(image) {
    const behind = image.reason_checks ||
      (image.reasons || []).map((message) => ({ status: image.verdict, message }));
    return behind.map((r) => el('li', { class: `reason-${r.status}`, 'data-status': r.status },
      el('span', { class: 'reason-status', text: r.status }), ` ${r.message}`));
  }

  // The boxes of the text checks, as rectangles in image coordinates over the detail image.
  function textBoxes(image) {
    const svg = $('detail-boxes');
    const rects = [];
    const read = [];
    for (const check of image.checks || []) {
      for (const b of check.boxes || []) {
        const [x0, y0, x1, y1] = b.box;
        const rect = document.createElementNS(svg.namespaceURI, 'rect'); // the SVG namespace
        for (const [k, v] of Object.entries({ x: x0, y: y0, width: x1 - x0, height: y1 - y0 })) {
          rect.setAttribute(k, String(v));
        }
        rect.setAttribute('class', `text-box text-box-${check.status}`);
        rect.setAttribute('vector-effect', 'non-scaling-stroke');
        const title = document.createElementNS(svg.namespaceURI, 'title');
        title.textContent = b.text;
        rect.append(title);
        rects.push(rect);
        read.push(el('li', { class: `reason-${check.status}`,
                             text: `“${b.text}” (${fmt(b.score, 2)}) at ${b.box.join(', ')} px` }));
      }
    }
    svg.setAttribute('viewBox', `0 0 ${image.width} ${image.height}`);
    svg.replaceChildren(...rects);
    svg.toggleAttribute('hidden', !rects.length); // an SVG element has no `hidden` property
    $('detail-text').replaceChildren(...read);
    $('detail-text').hidden = !read.length;
  }

  function badge(verdict) {
    const known = ['pass', 'review', 'fail'].includes(verdict) ? verdict : 'unknown';
    return el('span', { class: `badge badge-${known}`, text: String(verdict) });
  }

  function card(item) {
    const image = item.image;
    const thumb = item.url ? el('img', { src: item.url, alt: String(image.path), loading: 'lazy' })
      : el('div', { class: 'nothumb', text: 'no preview' });
    const reasons = reasonItems(image);
    const q = image.scores ? image.scores.quality : null;
    const details = el('button', { type: 'button', class: 'details-button', 'data-testid': 'card-details',
                                   'aria-haspopup': 'dialog', text: 'Details',
                                   'aria-label': `Details of ${image.path}` });
    details.addEventListener('click', () => openDetail(item, details));
    const node = el('article', { class: `card card-${image.verdict} card-open`, 'data-testid': 'card' },
      thumb,
      el('div', { class: 'card-head' }, badge(image.verdict),
        el('span', { class: 'quality', title: 'quality score, 0 to 100', text: `quality ${fmt(q)}` })),
      el('p', { class: 'name', title: String(image.path), text: image.path }),
      el('p', { class: 'muted small', text: `${image.width}×${image.height} ${image.format || ''}` +
                                          (item.policy ? ` · ${item.policy}` : '') }),
      reasons.length ? el('ul', { class: 'reasons' }, ...reasons) : null,
      el('details', {}, el('summary', { text: 'Scores' }),
        table('scores', image.scores), table('subscores (0–100)', image.subscores), checksTable(image.checks)),
      details);
    // A click anywhere on the card but its own controls opens the detail view too (the button is the
    // keyboard's way in).
    node.addEventListener('click', (e) => {
      if (!e.target.closest('button, a, summary, details, input, select')) openDetail(item, details);
    });
    return node;
  }

  function clearResults() {
    closeDetail();
    for (const url of state.urls) URL.revokeObjectURL(url);
    state.urls = [];
    state.results = [];
    $('assess-errors').replaceChildren();
    $('assess-status').textContent = '';
    render();
  }

  // -- detail view: the full image, every reason and score, and the heat map of /v1/explain -----------------

  function setDetailState(name, message) {
    $('detail').dataset.state = name;
    const status = $('detail-heatmap-status');
    status.textContent = message || '';
    status.classList.toggle('error', name === 'error');
  }

  function openDetail(item, opener) {
    const dialog = $('detail');
    if (dialog.open) closeDetail();
    const image = item.image;
    state.detail.item = item;
    state.detail.opener = opener || document.activeElement;
    $('detail-title').textContent = String(image.path);
    $('detail-verdict').replaceChildren(badge(image.verdict));
    $('detail-quality').textContent = `quality ${fmt(image.scores ? image.scores.quality : null)}`;
    $('detail-meta').textContent = `${image.width}×${image.height} ${image.format || ''}` +
      (item.policy ? ` · policy ${item.policy}` : '');
    if (item.url) {
      $('detail-image').src = item.url;
      $('detail-image').alt = String(image.path);
    } else {
      $('detail-image').removeAttribute('src');
    }
    $('detail-image').hidden = !item.url;
    $('detail-noimage').hidden = Boolean(item.url);
    textBoxes(image);
    if (!item.url) $('detail-boxes').toggleAttribute('hidden', true);
    const reasons = reasonItems(image);
    $('detail-reasons').replaceChildren(...(reasons.length ? reasons : [el('li', { class: 'muted',
                                                                                   text: 'none' })]));
    $('detail-scores').replaceChildren(...[table('scores', image.scores),
      table('subscores (0–100)', image.subscores), checksTable(image.checks)].filter(Boolean));
    $('detail-heatmap').hidden = true;
    $('detail-heatmap').removeAttribute('src');
    if (typeof dialog.showModal === 'function') dialog.showModal();
    else dialog.setAttribute('open', '');
    $('detail-close').focus();
    loadHeatmap(item);
  }

  async function loadHeatmap(item) {
    if (!item.file) {
      setDetailState('error', 'No heat map: the original file is not available in this tab.');
      return;
    }
    const abort = new AbortController();
    state.detail.abort = abort;
    setDetailState('loading', 'Computing the heat map…');
    const form = new FormData();
    form.append('files', item.file, item.file.name);
    try {
      const response = await api(route('explain'), { method: 'POST', body: form, signal: abort.signal });
      const blob = await response.blob();
      if (abort.signal.aborted || state.detail.item !== item) return;
      state.detail.url = URL.createObjectURL(blob);
      $('detail-heatmap').src = state.detail.url;
      $('detail-heatmap').hidden = false;
      const low = response.headers.get('X-Quality-Min');
      const mean = response.headers.get('X-Quality-Mean');
      setDetailState('done', low !== null && mean !== null
        ? `Lowest local quality ${low}, mean ${mean} (0 to 100).` : '');
    } catch (err) {
      if (abort.signal.aborted || state.detail.item !== item || err.status === 401) return;
      setDetailState('error', `No heat map: ${err.message}`);
    } finally {
      if (state.detail.abort === abort) state.detail.abort = null;
    }
  }

  function closeDetail() {
    if ($('detail').open) $('detail').close();
    finishDetail();
  }

  function onDetailClosed() {
    // Escape, or the close button. A late event of a dialog already open again for another image is ignored.
    if (!$('detail').open) finishDetail();
  }

  function finishDetail() {
    if (state.detail.abort) state.detail.abort.abort();
    if (state.detail.url) URL.revokeObjectURL(state.detail.url);
    const opener = state.detail.opener;
    state.detail = { item: null, url: null, abort: null, opener: null };
    $('detail-heatmap').hidden = true;
    $('detail-heatmap').removeAttribute('src');
    $('detail-image').removeAttribute('src');
    setDetailState('closed', '');
    if (opener && opener.isConnected && typeof opener.focus === 'function') opener.focus();
  }

  // -- style transfer ---------------------------------------------------------------------------------------

  function clearStylize() {
    if (state.stylizeUrl) URL.revokeObjectURL(state.stylizeUrl);
    state.stylizeUrl = null;
    $('stylize-result').hidden = true;
    $('stylize-img').removeAttribute('src');
    $('stylize-download').removeAttribute('href');
    $('stylize-progress').hidden = true;
    $('stylize-status').textContent = '';
    $('stylize-go').disabled = false;
  }

  function styleSource() {
    return document.querySelector('input[name="style-source"]:checked').value;
  }

  function syncStylizeForm() {
    const method = $('method').value;
    const presetRadio = document.querySelector('input[name="style-source"][value="preset"]');
    presetRadio.disabled = method !== 'fast';  // presets exist for the fast method only
    if (presetRadio.disabled && presetRadio.checked) {
      document.querySelector('input[name="style-source"][value="file"]').checked = true;
    }
    const source = styleSource();
    $('preset').disabled = source !== 'preset';
    $('style').disabled = source !== 'file';
    $('style').required = source === 'file';
    $('size').max = String(MAX_SIZE[method]);
    if (Number($('size').value) > MAX_SIZE[method]) $('size').value = String(MAX_SIZE[method]);
  }

  async function stylize(event) {
    event.preventDefault();
    clearStylize();
    const content = $('content').files[0];
    if (!content) return;
    const form = new FormData();
    form.append('content', content, content.name);
    if (styleSource() === 'file') {
      const style = $('style').files[0];
      if (!style) {
        $('stylize-status').textContent = 'Choose a style image, or a preset.';
        return;
      }
      form.append('style', style, style.name);
    } else {
      form.append('preset', $('preset').value);
    }
    form.append('method', $('method').value);
    form.append('size', $('size').value);
    form.append('strength', $('strength').value);
    form.append('preserve_color', $('preserve').checked ? 'true' : 'false');
    $('stylize-go').disabled = true;
    $('stylize-progress').hidden = false;
    $('stylize-progress').value = 0;
    $('stylize-status').textContent = 'Sending…';
    try {
      const body = await apiJson(route('stylize'), { method: 'POST', body: form });
      poll(body.job.id);
    } catch (err) {
      if (err.status === 401) return;
      $('stylize-progress').hidden = true;
      $('stylize-go').disabled = false;
      $('stylize-status').textContent = err.status === 429 && err.retryAfter
        ? `${err.message} (try again in ${err.retryAfter} s)` : `Refused: ${err.message}`;
    }
  }

  async function poll(id) {
    state.polling = null;
    let job;
    try {
      job = (await apiJson(route('job', id))).job;
    } catch (err) {
      if (err.status === 401) return;
      $('stylize-status').textContent = `Lost the job: ${err.message}`;
      $('stylize-go').disabled = false;
      return;
    }
    if (state.key === null) return;
    $('stylize-progress').value = Number(job.progress) || 0;
    if (job.status === 'done') {
      await showResult(id);
    } else if (job.status === 'failed') {
      $('stylize-progress').hidden = true;
      $('stylize-go').disabled = false;
      $('stylize-status').textContent = `Failed: ${job.error || 'unknown error'}` +
        (job.retriable ? ' (you may submit it again)' : '');
    } else {
      $('stylize-status').textContent = `Job ${job.id}: ${job.status}, ` +
        `${Math.round((Number(job.progress) || 0) * 100)}%`;
      state.polling = setTimeout(() => poll(id), POLL_MS);
    }
  }

  async function showResult(id) {
    try {
      const blob = await (await api(route('result', id))).blob();
      if (state.key === null) return;
      state.stylizeUrl = URL.createObjectURL(blob);
      $('stylize-img').src = state.stylizeUrl;
      $('stylize-download').href = state.stylizeUrl;
      $('stylize-result').hidden = false;
      $('stylize-progress').value = 1;
      $('stylize-status').textContent = `Done (job ${id}).`;
    } catch (err) {
      if (err.status !== 401) $('stylize-status').textContent = `No result: ${err.message}`;
    } finally {
      $('stylize-go').disabled = false;
    }
  }

  // -- compose and harmonise --------------------------------------------------------------------------------

  function clearCompose() {
    for (const url of state.musicUrls) URL.revokeObjectURL(url);
    state.musicUrls = [];
    $('compose-result').hidden = true;
    for (const id of ['compose-audio', 'compose-roll']) $(id).removeAttribute('src');
    for (const id of ['compose-midi', 'compose-wav']) $(id).removeAttribute('href');
    $('compose-progress').hidden = true;
    $('compose-status').textContent = '';
    $('compose-go').disabled = false;
  }

  function syncComposeForm() {
    const harmonize = $('compose-task').value === 'harmonize';
    $('melody').disabled = !harmonize;
    $('melody').required = harmonize;
    $('bars').disabled = harmonize;
    $('compose-go').textContent = harmonize ? 'Harmonise' : 'Compose';
  }

  async function composeMusic(event) {
    event.preventDefault();
    clearCompose();
    const harmonize = $('compose-task').value === 'harmonize';
    const key = $('music-key').value.trim();
    const options = { temperature: Number($('temperature').value), seed: Number($('music-seed').value) };
    if (key) options.key = key;
    let request;
    if (harmonize) {
      const melody = $('melody').files[0];
      if (!melody) {
        $('compose-status').textContent = 'Choose a melody file.';
        return;
      }
      const form = new FormData();
      form.append('melody', melody, melody.name);
      for (const [name, value] of Object.entries(options)) form.append(name, String(value));
      request = { method: 'POST', body: form };
    } else {
      options.bars = Number($('bars').value);
      request = { method: 'POST', body: JSON.stringify(options),
        headers: { 'Content-Type': 'application/json' } };
    }
    $('compose-go').disabled = true;
    $('compose-progress').hidden = false;
    $('compose-progress').value = 0;
    $('compose-status').textContent = 'Sending…';
    try {
      const body = await apiJson(route(harmonize ? 'harmonize' : 'compose'), request);
      pollMusic(body.job.id);
    } catch (err) {
      if (err.status === 401) return;
      $('compose-progress').hidden = true;
      $('compose-go').disabled = false;
      $('compose-status').textContent = err.status === 429 && err.retryAfter
        ? `${err.message} (try again in ${err.retryAfter} s)` : `Refused: ${err.message}`;
    }
  }

  async function pollMusic(id) {
    let job;
    try {
      job = (await apiJson(route('job', id))).job;
    } catch (err) {
      if (err.status !== 401) $('compose-status').textContent = `Lost the job: ${err.message}`;
      $('compose-go').disabled = false;
      return;
    }
    if (state.key === null) return;
    $('compose-progress').value = Number(job.progress) || 0;
    if (job.status === 'done') {
      await showMusic(id);
    } else if (job.status === 'failed') {
      $('compose-progress').hidden = true;
      $('compose-go').disabled = false;
      $('compose-status').textContent = `Failed: ${job.error || 'unknown error'}`;
    } else {
      $('compose-status').textContent = `Job ${job.id}: ${job.status}`;
      setTimeout(() => pollMusic(id), POLL_MS);
    }
  }

  async function musicFile(link) {
    const url = URL.createObjectURL(await (await api(link)).blob());
    state.musicUrls.push(url);
    return url;
  }

  async function showMusic(id) {
    try {
      const summary = await apiJson(route('result', id));
      const files = summary.files || {};
      if (files.roll) $('compose-roll').src = await musicFile(files.roll);
      if (files.midi) $('compose-midi').href = await musicFile(files.midi);
      if (files.wav) {
        const wav = await musicFile(files.wav);
        $('compose-audio').src = wav;
        $('compose-wav').href = wav;
      }
      if (state.key === null) return;
      $('compose-result').hidden = false;
      $('compose-progress').value = 1;
      const voices = (summary.voices || []).map((v) => `${v.name} ${v.notes}`).join(', ');
      $('compose-status').textContent = `${summary.bars} bars of ${summary.meter} in ${summary.key}, ` +
        `${fmt(summary.seconds)} s (notes: ${voices}).`;
    } catch (err) {
      if (err.status !== 401) $('compose-status').textContent = `No result: ${err.message}`;
    } finally {
      $('compose-go').disabled = false;
    }
  }

  // -- classify ---------------------------------------------------------------------------------------------

  function showModels(models) {
    const names = Object.keys(models).sort();
    $('model').replaceChildren(...names.map((n) => el('option', { value: n, text: n })));
    $('classify').hidden = names.length === 0;
  }

  function clearClassify() {
    for (const url of state.classifyUrls) URL.revokeObjectURL(url);
    state.classifyUrls = [];
    $('classify-results').replaceChildren();
    $('classify-errors').replaceChildren();
    $('classify-status').textContent = '';
  }

  async function classify(event) {
    event.preventDefault();
    const files = Array.from($('classify-files').files);
    if (!files.length) return;
    const form = new FormData();
    for (const file of files) form.append('files', file, file.name);
    form.append('model', $('model').value);
    form.append('top_k', $('topk').value);
    clearClassify();
    $('classify-status').textContent = `Classifying ${files.length} image(s)…`;
    let report;
    try {
      report = await apiJson(route('classify'), { method: 'POST', body: form });
    } catch (err) {
      if (err.status !== 401) {
        $('classify-status').textContent = '';
        listErrors($('classify-errors'), [err.message]);
      }
      return;
    }
    const byName = new Map(files.map((f) => [f.name.split(/[\\/]/).pop(), f]));
    $('classify-status').textContent = `Model ${$('model').value}: ${(report.images || []).length} image(s).`;
    $('classify-results').replaceChildren(...(report.images || []).map((image) => {
      const file = byName.get(image.path);
      const url = file ? URL.createObjectURL(file) : null;
      if (url) state.classifyUrls.push(url);
      const heads = image.heads && Object.keys(image.heads).length ? image.heads : { label: image };
      return el('article', { class: 'card' },
        url ? el('img', { src: url, alt: String(image.path) }) : null,
        el('p', { class: 'name', text: image.path }),
        el('p', { class: 'label' }, el('strong', { text: image.label }), ` ${fmt(100 * image.score)}%`),
        ...Object.entries(heads).map(([head, p]) => el('details', { open: '' },
          el('summary', { text: `${head}: ${p.label} (${fmt(100 * p.score)}%)` }),
          el('ol', {}, ...(p.topk || []).map(([cls, prob]) => el('li', { text: `${cls} ${fmt(100 * prob)}%` }))))));
    }));
    listErrors($('classify-errors'), (report.errors || []).map(errorLine));
  }

  // -- wiring -----------------------------------------------------------------------------------------------

  function wireDrop() {
    const drop = $('drop');
    for (const type of ['dragenter', 'dragover']) {
      drop.addEventListener(type, (e) => { e.preventDefault(); drop.classList.add('over'); });
    }
    for (const type of ['dragleave', 'drop']) {
      drop.addEventListener(type, () => drop.classList.remove('over'));
    }
    drop.addEventListener('drop', (e) => {
      e.preventDefault();
      if (e.dataTransfer && e.dataTransfer.files.length) assessFiles(e.dataTransfer.files);
    });
    drop.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); $('files').click(); }
    });
    $('files').addEventListener('change', () => {
      assessFiles($('files').files);
      $('files').value = '';
    });
    // A file dropped beside the zone must not make the browser navigate away from the page.
    window.addEventListener('dragover', (e) => e.preventDefault());
    window.addEventListener('drop', (e) => e.preventDefault());
  }

  function init() {
    $('preset').replaceChildren(...Array.from({ length: N_PRESETS }, (_, i) => {
      const name = `preset_${String(i).padStart(2, '0')}`;
      return el('option', { value: name, text: name });
    }));
    $('signin-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const key = $('key').value.trim();
      if (key) signIn(key);
    });
    $('signout').addEventListener('click', () => signOut(''));
    $('filter').addEventListener('change', render);
    $('sort').addEventListener('change', render);
    $('clear').addEventListener('click', clearResults);
    $('detail-close').addEventListener('click', closeDetail);
    $('detail').addEventListener('close', onDetailClosed);
    $('stylize-form').addEventListener('submit', stylize);
    $('method').addEventListener('change', syncStylizeForm);
    for (const radio of document.querySelectorAll('input[name="style-source"]')) {
      radio.addEventListener('change', syncStylizeForm);
    }
    $('strength').addEventListener('input', () => {
      $('strength-value').textContent = Number($('strength').value).toFixed(2);
    });
    $('classify-form').addEventListener('submit', classify);
    $('compose-form').addEventListener('submit', composeMusic);
    $('compose-task').addEventListener('change', syncComposeForm);
    wireDrop();
    syncStylizeForm();
    syncComposeForm();
    const saved = sessionStorage.getItem(KEY_NAME);
    if (saved) signIn(saved);
  }

  document.addEventListener('DOMContentLoaded', init);
})();
