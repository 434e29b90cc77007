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
    presets: '/v1/style/presets',
    indexes: '/v1/indexes',
    items: '/v1/indexes/{name}/items',
    thumbnail: '/v1/indexes/{name}/thumbnail',
    similar: '/v1/similar',
    duplicates: '/v1/duplicates',
    recommend: '/v1/recommend',
  };
  const KEY_NAME = 'artlens.key';
  const BATCH = 8;          // images per assess request (the server's default limit is 16)
  const POLL_MS = 1000;
  const N_PRESETS = 26;
  const MAX_SIZE = { fast: 2048, gatys: 1024 };
  const PAGE_ITEMS = 24;    // indexed images listed at a time
  // How each policy rule's value reads in the reasons (artlens.assess.policy.RULES: the formatter of each
  // rule): the checks table shows values and limits in the same units. tests/serve/test_page.py keeps the two
  // in step.
  const UNITS = {
    quality: 'score', sharpness: 'score', noise: 'score', exposure: 'score', contrast: 'score',
    colour_cast: 'score', blockiness: 'score', brisque: 'score', niqe: 'score',
    longest_side: 'px', shortest_side: 'px', megapixels: 'mp', aspect_ratio: 'ratio', file_size_mb: 'mb',
    file_format: 'word', background_white: 'pct', background_light: 'pct', product_fill: 'pct',
    border: 'count', text_overlay: 'pct', text_on_product: 'pct',
  };

  const $ = (id) => document.getElementById(id);
  const state = { key: null, results: [], urls: [], classifyUrls: [], stylizeUrl: null, polling: null,
    musicUrls: [],
    detail: { item: null, url: null, abort: null, opener: null },
    images: new Map(),  // authorised image URL -> object URL (thumbnails, previews): fetched once
    search: { indexes: {}, offset: 0, total: 0, queryUrl: null },
    rec: { offset: 0, total: 0, ratings: new Map() } };

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
    return id === undefined ? path : path.replace(/\{(job_id|name)\}/, encodeURIComponent(id));
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
    loadPresets();
    loadIndexes();
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
    $('preset-gallery').replaceChildren();
    clearSearch();  // after every image using the blob: URLs it revokes has left the page
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

  // A value as the reasons write it (the formatters of artlens.assess.policy), with `extra` more decimals.
  function inUnit(unit, v, extra) {
    if (typeof v !== 'number') return fmt(v);
    switch (unit) {
      case 'pct': {
        const base = Math.abs(v * 100 - Math.round(v * 100)) < 0.05 || v >= 0.1 ? 0 : 1;
        return `${(v * 100).toFixed(base + extra)}%`;
      }
      case 'score': return `${v.toFixed(extra)}/100`;
      case 'px': return `${v.toFixed(extra)} px`;
      case 'mp': return `${v.toFixed(1 + extra)} MP`;
      case 'mb': return `${v.toFixed(1 + extra)} MB`;
      case 'ratio': return `${v.toFixed(2 + extra)}:1`;
      case 'count': return v.toFixed(extra);
      default: return fmt(v, 3);
    }
  }

  // Value and limit shown with enough decimals that they differ when the numbers do ("94.8%" beside "95%").
  function shownPair(unit, value, limit) {
    if (typeof value !== 'number' || typeof limit !== 'number') return [inUnit(unit, value, 0), inUnit(unit, limit, 0)];
    let extra = 0;
    while (extra < 4 && value !== limit && inUnit(unit, value, extra) === inUnit(unit, limit, extra)) extra += 1;
    return [inUnit(unit, value, extra), inUnit(unit, limit, extra)];
  }

  function checksTable(checks) {
    if (!checks || !checks.length) return null;
    const head = el('tr', {}, ...['check', 'status', 'value', 'limit'].map((t) => el('th', { text: t })));
    const rows = checks.map((c) => {
      const [value, limit] = shownPair(UNITS[c.id], c.value, c.threshold);
      return el('tr', { class: `check-${c.status}`, title: String(c.message || ''), 'data-check': c.id },
        el('td', { text: String(c.id).replace(/_/g, ' ') }), el('td', { class: 'nowrap', text: c.status }),
        el('td', { class: 'num', text: value }),
        el('td', { class: 'num', text: c.threshold === null || c.threshold === undefined ? '–' : limit }));
    });
    return el('table', { class: 'checks' }, el('caption', { text: 'Checks' }), el('thead', {}, head),
      el('tbody', {}, ...rows));
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
    $('detail-checks').replaceChildren(...[checksTable(image.checks)].filter(Boolean));
    $('detail-scores').replaceChildren(...[table('scores', image.scores),
      table('subscores (0–100)', image.subscores)].filter(Boolean));
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
        ? `Spread of the quality map: its regions score from ${Math.round(low)} (weakest) up, ` +
          `${Math.round(mean)} on average. These patch scores compare regions of this image; its quality ` +
          'score is the one above.' : '');
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
    $('preset-gallery').classList.toggle('disabled', source !== 'preset');
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
      $('stylize-status').textContent = `${job.status === 'queued' ? 'Waiting for a free worker' : 'Rendering'}, ` +
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
      $('stylize-status').textContent = 'Done.';
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
      $('compose-status').textContent = job.status === 'queued' ? 'Waiting for a free worker…' : 'Composing…';
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

  // -- images behind the key: thumbnails and previews are fetched with the bearer token, shown as blob: URLs -

  // At most IMAGE_FETCHES image requests at a time: a page of thumbnails never floods the server, and a
  // sign-out stops what has not started.
  const IMAGE_FETCHES = 2;
  const imageQueue = { running: 0, waiting: [] };

  function nextImage() {
    while (imageQueue.running < IMAGE_FETCHES && imageQueue.waiting.length) {
      const { url, done, fail } = imageQueue.waiting.shift();
      if (state.key === null) {
        fail(new ApiError(0, 'signed_out', 'signed out'));
        continue;
      }
      imageQueue.running += 1;
      api(url).then((r) => r.blob()).then((blob) => done(URL.createObjectURL(blob)), fail)
        .finally(() => { imageQueue.running -= 1; nextImage(); });
    }
  }

  async function authorisedImage(url) {
    if (!state.images.has(url)) {
      state.images.set(url, new Promise((done, fail) => {
        imageQueue.waiting.push({ url, done, fail });
        nextImage();
      }));
    }
    try {
      return await state.images.get(url);
    } catch (err) {
      state.images.delete(url);  // try again next time
      throw err;
    }
  }

  // An <img> filled once its authorised image has arrived (a placeholder until then, or on failure).
  function fill(img, url) {
    authorisedImage(url).then((src) => { if (img.isConnected) img.src = src; })
      .catch(() => { img.classList.add('broken'); img.title = 'no preview'; });
    return img;
  }

  function lazyImage(url, alt) {
    return fill(el('img', { alt, 'data-src': url }), url);
  }

  // Like lazyImage, fetched only once the image scrolls into view (previews are rendered on first request).
  function whenVisible(url, alt) {
    const img = el('img', { alt, 'data-src': url });
    if (!('IntersectionObserver' in window)) return fill(img, url);
    const watch = new IntersectionObserver((entries) => {
      if (!entries.some((e) => e.isIntersecting)) return;
      watch.disconnect();
      fill(img, url);
    });
    watch.observe(img);
    return img;
  }

  function thumbnail(index, path) {
    return `${route('thumbnail', index)}?path=${encodeURIComponent(path)}`;
  }

  function baseName(path) {
    return String(path).split(/[\\/]/).pop();
  }

  function dropImages() {
    imageQueue.waiting = [];
    for (const pending of state.images.values()) pending.then((u) => URL.revokeObjectURL(u)).catch(() => {});
    state.images = new Map();
  }

  // -- style presets with previews --------------------------------------------------------------------------

  function choosePreset(name) {
    $('preset').value = name;
    for (const button of $('preset-gallery').children) {
      button.setAttribute('aria-checked', String(button.dataset.preset === name));
    }
  }

  async function loadPresets() {
    let presets;
    try {
      presets = (await apiJson(route('presets'))).presets || [];
    } catch (err) {
      return;  // the select still offers the names
    }
    $('preset-gallery').replaceChildren(...presets.map((p) => {
      const preview = p.preview ? whenVisible(p.preview, `${p.name} applied to a sample photo`)
        : el('span', { class: 'nothumb small', text: 'no preview' });
      const button = el('button', { type: 'button', class: 'preset', role: 'radio', 'aria-checked': 'false',
                                    'data-preset': p.name, title: p.name },
        preview, el('span', { text: p.name.replace('preset_', '#') }));
      button.addEventListener('click', () => {
        if ($('preset').disabled) return;
        choosePreset(p.name);
      });
      return button;
    }));
    choosePreset($('preset').value);
  }

  // -- similar images and duplicates ------------------------------------------------------------------------

  function searchIndex() {
    return $('search-index').value;
  }

  function showIndexes(indexes) {
    state.search.indexes = indexes;
    const names = Object.keys(indexes).sort();
    $('search-index').replaceChildren(...names.map((n) => el('option', { value: n,
      text: `${n} (${indexes[n].items} images)` })));
    $('search').hidden = names.length === 0;
    $('recommend').hidden = names.length === 0;
    if (names.length) switchIndex();
  }

  function switchIndex() {
    const info = state.search.indexes[searchIndex()] || { by: ['content'] };
    for (const option of $('search-by').options) option.disabled = !info.by.includes(option.value);
    if ($('search-by').selectedOptions[0].disabled) $('search-by').value = 'content';
    state.search.offset = 0;
    state.rec.offset = 0;
    state.rec.ratings = new Map();
    $('search-items').replaceChildren();
    $('rec-items').replaceChildren();
    $('search-results').replaceChildren();
    $('search-query').hidden = true;
    $('dup-groups').replaceChildren();
    $('dup-status').textContent = '';
    $('rec-results').replaceChildren();
    syncRatings();
    loadItems('search');
    loadItems('rec');
  }

  async function loadItems(view) {
    const box = view === 'search' ? state.search : state.rec;
    const index = searchIndex();
    let page;
    try {
      page = await apiJson(`${route('items', index)}?offset=${box.offset}&limit=${PAGE_ITEMS}`);
    } catch (err) {
      if (err.status !== 401) $(`${view}-status`).textContent = `Cannot list the collection: ${err.message}`;
      return;
    }
    box.total = page.total;
    box.offset += page.items.length;
    const holder = $(`${view}-items`);
    holder.append(...page.items.map((item) => (view === 'search' ? pickable(index, item) : rateable(index, item))));
    $(`${view}-more`).hidden = box.offset >= box.total;
    if (view === 'search') $('search-count').textContent = `(${page.total})`;
  }

  function pickable(index, item) {
    const button = el('button', { type: 'button', class: 'pick-item', title: `Find images like ${item.name}`,
                                  'data-path': item.path },
      lazyImage(thumbnail(index, item.path), item.name), el('span', { class: 'small', text: item.name }));
    button.addEventListener('click', () => similar({ path: item.path, name: item.name }));
    return button;
  }

  function scoreText(score) {
    return `similarity ${Math.round(100 * score)}%`;
  }

  function resultCard(index, path, extra) {
    return el('article', { class: 'card result', 'data-path': path },
      lazyImage(thumbnail(index, path), baseName(path)),
      el('p', { class: 'name', title: String(path), text: baseName(path) }), ...extra);
  }

  async function similar(query) {
    const index = searchIndex();
    const k = Math.max(1, Math.min(50, Number($('search-k').value) || 8));
    $('search-errors').replaceChildren();
    $('search-results').replaceChildren();
    $('search-status').textContent = `Looking for images like ${query.name}…`;
    let report;
    try {
      if (query.file) {
        const form = new FormData();
        form.append('files', query.file, query.file.name);
        form.append('index', index);
        form.append('k', String(k));
        form.append('by', $('search-by').value);
        report = await apiJson(route('similar'), { method: 'POST', body: form });
      } else {
        report = await apiJson(route('similar'), { method: 'POST', headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ index, queries: [query.path], k, by: $('search-by').value }) });
      }
    } catch (err) {
      if (err.status !== 401) {
        $('search-status').textContent = '';
        listErrors($('search-errors'), [err.message]);
      }
      return;
    }
    if (state.search.queryUrl) URL.revokeObjectURL(state.search.queryUrl);
    state.search.queryUrl = query.file ? URL.createObjectURL(query.file) : null;
    const queryImage = query.file ? el('img', { src: state.search.queryUrl, alt: query.name })
      : lazyImage(thumbnail(index, query.path), query.name);
    $('search-query').replaceChildren(queryImage, el('div', {}, el('strong', { text: 'Query: ' }),
      el('span', { text: query.name }), el('p', { class: 'muted small', text: query.file
        ? 'an uploaded image' : 'an image of the collection (left out of its own results)' })));
    $('search-query').hidden = false;
    const results = (report.queries[0] || { results: [] }).results;
    $('search-results').replaceChildren(...results.map((r) => resultCard(index, r.path, [
      el('p', { class: 'score', text: scoreText(r.score) })])));
    $('search-status').textContent = results.length
      ? `${results.length} most similar by ${report.by}, best first.` : 'No similar images found.';
    listErrors($('search-errors'), (report.errors || []).map((e) => e.error));
  }

  // Why the suggested copy is kept: the words of the duplicates report when it gives them, else its rule.
  function keepReason(group, keeper) {
    const given = group.keep_reason || group.reason || group.why || (keeper && (keeper.keep_reason || keeper.reason));
    if (given) return String(given);
    return keeper ? `the largest copy: ${keeper.width}×${keeper.height} px, ${fmtBytes(keeper.size)} ` +
      '(most pixels, then most bytes)' : 'most pixels, then most bytes';
  }

  function fmtBytes(n) {
    if (typeof n !== 'number') return '–';
    return n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${Math.max(1, Math.round(n / 1e3))} kB`;
  }

  const KINDS = { exact: 'exact copies (same bytes)', 'near-identical': 'near-identical copies (resized or re-encoded)',
    visual: 'visual near-duplicates (crops, edits, overlays)' };

  async function findDuplicates() {
    const index = searchIndex();
    $('dup-go').disabled = true;
    $('dup-status').textContent = 'Comparing every image of the collection…';
    $('dup-groups').replaceChildren();
    let report;
    try {
      report = await apiJson(route('duplicates'), { method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ index }) });
    } catch (err) {
      if (err.status !== 401) $('dup-status').textContent = `Refused: ${err.message}`;
      return;
    } finally {
      $('dup-go').disabled = false;
    }
    const groups = report.groups || [];
    $('dup-status').textContent = groups.length
      ? `${groups.length} group(s) of copies among ${report.summary.items} images; nothing is deleted.`
      : `No duplicates among ${report.summary.items} images.`;
    $('dup-groups').replaceChildren(...groups.map((group) => {
      const keepPath = group.keep;
      const keeper = group.members.find((m) => m.path === keepPath);
      const members = [...group.members].sort((a, b) => (b.path === keepPath) - (a.path === keepPath));
      return el('article', { class: 'group', 'data-kind': group.kind },
        el('h4', { text: `${group.size} ${KINDS[group.kind] || group.kind}` }),
        el('p', { class: 'keep-why small' }, el('strong', { text: `Keep ${baseName(keepPath)}: ` }),
          keepReason(group, keeper)),
        el('div', { class: 'strip' }, ...members.map((m) => resultCard(index, m.path, [
          el('p', { class: 'muted small', text: `${m.width}×${m.height} · ${fmtBytes(m.size)}` }),
          m.path === keepPath ? el('span', { class: 'badge badge-pass', text: 'keep' })
            : el('span', { class: 'badge badge-unknown', text: 'copy' })]))));
    }));
  }

  // -- recommend ----------------------------------------------------------------------------------------------

  function rateable(index, item) {
    const like = el('button', { type: 'button', class: 'rate-like', 'aria-pressed': 'false',
                                'aria-label': `Like ${item.name}`, text: 'Like' });
    const dislike = el('button', { type: 'button', class: 'rate-dislike', 'aria-pressed': 'false',
                                   'aria-label': `Dislike ${item.name}`, text: 'Dislike' });
    const node = el('div', { class: 'rate-item', 'data-path': item.path },
      lazyImage(thumbnail(index, item.path), item.name), el('span', { class: 'small', text: item.name }),
      el('div', { class: 'rate-buttons' }, like, dislike));
    const set = (value) => {
      if (state.rec.ratings.get(item.path) === value) state.rec.ratings.delete(item.path);
      else state.rec.ratings.set(item.path, value);
      syncRatings();
    };
    like.addEventListener('click', () => set('liked'));
    dislike.addEventListener('click', () => set('disliked'));
    return node;
  }

  function ratings(kind) {
    return [...state.rec.ratings].filter(([, v]) => v === kind).map(([p]) => p);
  }

  function syncRatings() {
    for (const node of $('rec-items').children) {
      const rating = state.rec.ratings.get(node.dataset.path);
      node.dataset.rating = rating || '';
      node.querySelector('.rate-like').setAttribute('aria-pressed', String(rating === 'liked'));
      node.querySelector('.rate-dislike').setAttribute('aria-pressed', String(rating === 'disliked'));
    }
    const liked = ratings('liked').length;
    const disliked = ratings('disliked').length;
    $('rec-summary').textContent = liked || disliked ? `${liked} liked, ${disliked} disliked.` : 'No ratings yet.';
    $('rec-go').disabled = liked === 0;
  }

  async function recommend() {
    const index = searchIndex();
    $('rec-errors').replaceChildren();
    $('rec-status').textContent = 'Finding recommendations…';
    let report;
    try {
      report = await apiJson(route('recommend'), { method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ index, liked: ratings('liked'), disliked: ratings('disliked'), k: 12,
                               diversity: Number($('rec-diversity').value), by: $('search-by').value }) });
    } catch (err) {
      if (err.status !== 401) {
        $('rec-status').textContent = '';
        listErrors($('rec-errors'), [err.message]);
      }
      return;
    }
    const results = report.results || [];
    $('rec-results').replaceChildren(...results.map((r) => resultCard(index, r.path, [
      el('p', { class: 'score', text: `match ${Math.round(100 * r.relevance)}%` })])));
    $('rec-status').textContent = results.length
      ? `${results.length} recommendation(s), the closest match first, then a mix of match and variety; ` +
        'rated images and their exact copies are left out.'
      : 'Nothing left to recommend.';
    listErrors($('rec-errors'), (report.errors || []).map((e) => e.error));
  }

  async function loadIndexes() {
    try {
      showIndexes((await apiJson(route('indexes'))).indexes || {});
    } catch (err) {
      showIndexes({});
    }
  }

  function clearSearch() {
    if (state.search.queryUrl) URL.revokeObjectURL(state.search.queryUrl);
    state.search = { indexes: {}, offset: 0, total: 0, queryUrl: null };
    state.rec = { offset: 0, total: 0, ratings: new Map() };
    for (const id of ['search-items', 'search-results', 'search-query', 'dup-groups', 'rec-items', 'rec-results',
      'search-errors', 'rec-errors']) $(id).replaceChildren();
    $('search').hidden = true;
    $('recommend').hidden = true;
    dropImages();
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
    $('preset').addEventListener('change', () => choosePreset($('preset').value));
    $('search-index').addEventListener('change', switchIndex);
    $('search-more').addEventListener('click', () => loadItems('search'));
    $('rec-more').addEventListener('click', () => loadItems('rec'));
    $('search-file').addEventListener('change', () => {
      const file = $('search-file').files[0];
      if (file) similar({ file, name: file.name });
      $('search-file').value = '';
    });
    $('dup-go').addEventListener('click', findDuplicates);
    $('rec-go').addEventListener('click', recommend);
    $('rec-clear').addEventListener('click', () => {
      state.rec.ratings = new Map();
      syncRatings();
      $('rec-results').replaceChildren();
      $('rec-status').textContent = '';
    });
    wireDrop();
    syncStylizeForm();
    syncComposeForm();
    const saved = sessionStorage.getItem(KEY_NAME);
    if (saved) signIn(saved);
  }

  document.addEventListener('DOMContentLoaded', init);
})();
