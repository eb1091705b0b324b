import { createHash } from 'node:crypto';

// The console's single page: inline CSS and vanilla JS, no build step and nothing fetched from elsewhere.
// Everything the server knows reaches the page as JSON and is put on screen with textContent (never as HTML).
// The inline style and script are allowed by hash in the Content-Security-Policy, so nothing else can run.

const STYLE = String.raw`
:root {
  --sidebar: #1d2132; --sidebar-hover: #2a2f45; --sidebar-text: #c9cde0; --sidebar-dim: #8d93b0; --accent: #3b5bdb;
  --border: #e3e5ea; --muted: #656d76; --text: #1f2328; --bg: #ffffff; --bg-soft: #f6f7f9;
  --primary: #1f7a4d; --danger: #c0392b; --warn-bg: #fff7e0; --warn-border: #f0c14b; --warn-text: #6b4e00;
  --error-bg: #fdecea; --error-border: #f5c2bd; --error-text: #8a1c12; --info-bg: #eef4ff; --info-border: #d3e0fb;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "PingFang SC", "Hiragino Sans", "Microsoft YaHei", sans-serif;
}
* { box-sizing: border-box; }
[hidden] { display: none !important; }
html, body { height: 100%; margin: 0; }
body { display: flex; flex-direction: column; color: var(--text); background: var(--bg); font-size: 15px; line-height: 1.45; }
button { font: inherit; }
.banner { flex: none; background: #fff4d6; color: #5c4400; border-bottom: 1px solid #f0d48a; padding: 6px 16px; font-size: 13px; }
.app { flex: 1; min-height: 0; display: flex; }

.sidebar { width: 260px; flex: none; background: var(--sidebar); color: var(--sidebar-text); display: flex; flex-direction: column; gap: 12px; padding: 14px 10px; overflow-y: auto; }
.brand { color: #fff; font-weight: 700; font-size: 18px; padding: 0 6px; }
.brand small { display: block; font-weight: 400; font-size: 12px; color: var(--sidebar-dim); }
.sidebar-label, .nav-section h2 { font-size: 11px; font-weight: 600; text-transform: uppercase; letter-spacing: .05em; color: var(--sidebar-dim); margin: 0; padding: 0 6px; }
.user-picker select { width: 100%; margin-top: 4px; padding: 6px 8px; border-radius: 6px; border: 1px solid #3a4060; background: var(--sidebar-hover); color: #fff; font-size: 14px; }
.user-description { margin: 4px 0 0; padding: 0 6px; font-size: 12px; color: var(--sidebar-dim); }
.nav-section ul { list-style: none; margin: 4px 0 0; padding: 0; }
.conversation { width: 100%; display: flex; align-items: center; gap: 8px; padding: 5px 8px; border: 0; border-radius: 6px; background: transparent; color: var(--sidebar-text); font-size: 14px; text-align: left; cursor: pointer; }
.conversation:hover { background: var(--sidebar-hover); }
.conversation.active { background: var(--accent); color: #fff; }
.conversation-icon { width: 18px; flex: none; text-align: center; opacity: .85; }
.conversation-name { flex: 1; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.badge { flex: none; background: #e5484d; color: #fff; border-radius: 9px; padding: 0 6px; font-size: 11px; font-weight: 700; line-height: 18px; }
.connection { margin-top: auto; padding: 0 6px; font-size: 12px; color: var(--sidebar-dim); }
.connection::before { content: "○ "; }
.connection.live::before { content: "● "; color: #3ecf8e; }

main { flex: 1; min-width: 0; display: flex; flex-direction: column; }
.main-header { flex: none; border-bottom: 1px solid var(--border); padding: 10px 20px 0; }
.conversation-title { margin: 0; font-size: 18px; font-weight: 700; overflow-wrap: anywhere; }
.conversation-description { margin: 2px 0 0; font-size: 13px; color: var(--muted); overflow-wrap: anywhere; }
.private-note { display: inline-block; margin: 6px 0 0; padding: 3px 8px; font-size: 12px; color: var(--warn-text); background: var(--warn-bg); border: 1px solid #f3dfa6; border-radius: 6px; }
.tabs { display: flex; gap: 4px; margin-top: 6px; }
.tab { border: 0; border-bottom: 2px solid transparent; background: none; padding: 8px 12px; font-size: 14px; color: var(--muted); cursor: pointer; }
.tab[aria-selected="true"] { color: var(--text); border-bottom-color: var(--accent); font-weight: 600; }
.view { flex: 1; min-height: 0; overflow-y: auto; }
.chat-view { display: flex; flex-direction: column; overflow: hidden; }
.messages { flex: 1; overflow-y: auto; padding: 12px 14px; }

.message { display: flex; gap: 10px; padding: 8px 8px; border-radius: 8px; }
.message:hover { background: var(--bg-soft); }
.avatar { width: 36px; height: 36px; flex: none; border-radius: 8px; display: flex; align-items: center; justify-content: center; color: #fff; font-weight: 700; font-size: 14px; }
.avatar-bot { background: #5b4bd6; }
.avatar-0 { background: #0b7285; } .avatar-1 { background: #c2255c; } .avatar-2 { background: #2b8a3e; }
.avatar-3 { background: #e8590c; } .avatar-4 { background: #1864ab; } .avatar-5 { background: #862e9c; }
.message-body { flex: 1; min-width: 0; }
.message-meta { display: flex; flex-wrap: wrap; align-items: baseline; gap: 8px; font-size: 12px; color: var(--muted); }
.author { font-size: 15px; font-weight: 700; color: var(--text); }
.app-tag { font-size: 10px; font-weight: 700; background: #e9e9ef; color: #555; border-radius: 3px; padding: 0 4px; }
.message-text { white-space: pre-wrap; overflow-wrap: anywhere; }
.ephemeral { margin: 4px 0; background: var(--info-bg); border: 1px solid var(--info-border); }
.ephemeral:hover { background: var(--info-bg); }
.ephemeral-error, .ephemeral-error:hover { background: var(--error-bg); border-color: var(--error-border); }
.ephemeral-error .message-text { color: var(--error-text); }
.only-you { font-style: italic; }

.card { max-width: 660px; margin-top: 6px; padding: 12px 14px; background: #fff; border: 1px solid var(--border); border-left: 4px solid #9aa0a6; border-radius: 8px; }
.card.status-pending, .card.status-revoking { border-left-color: #f0b429; }
.card.status-approved, .card.status-active { border-left-color: #2f9e44; }
.card.status-rejected, .card.status-failed { border-left-color: #e03131; }
.card-title { font-weight: 700; overflow-wrap: anywhere; }
.card-status { margin-top: 2px; overflow-wrap: anywhere; }
.card-notice { display: flex; gap: 8px; margin-top: 8px; padding: 6px 10px; background: var(--warn-bg); border: 1px solid var(--warn-border); border-radius: 6px; color: var(--warn-text); white-space: pre-wrap; overflow-wrap: anywhere; }
.card-fields { display: grid; grid-template-columns: repeat(auto-fill, minmax(180px, 1fr)); gap: 8px 16px; margin: 10px 0 0; }
.card-field dt { font-size: 12px; color: var(--muted); }
.card-field dd { margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; }
.card-reason { margin-top: 10px; }
.card-label { display: block; font-size: 12px; color: var(--muted); }
.reason-text { margin: 2px 0 0; padding: 6px 10px; background: var(--bg-soft); border-radius: 6px; white-space: pre-wrap; overflow-wrap: anywhere; }
.card-progress { margin-top: 8px; font-size: 13px; font-weight: 600; color: #364fc7; }
.card-decisions { display: grid; gap: 4px; list-style: none; margin: 10px 0 0; padding: 0; }
.card-decisions li { overflow-wrap: anywhere; }
.card-decisions blockquote { margin: 2px 0 0; padding-left: 10px; border-left: 3px solid var(--border); color: #444; white-space: pre-wrap; }
.card-actions { margin-top: 12px; padding-top: 10px; border-top: 1px solid var(--border); }
.comment-input { width: 100%; margin-top: 4px; padding: 6px 8px; font: inherit; font-size: 14px; border: 1px solid #cfd3da; border-radius: 6px; resize: vertical; }
.card-buttons { display: flex; flex-wrap: wrap; gap: 8px; margin-top: 8px; }
.btn { padding: 6px 14px; font-size: 14px; font-weight: 600; color: var(--text); background: #fff; border: 1px solid #cfd3da; border-radius: 6px; cursor: pointer; }
.btn:hover { background: var(--bg-soft); }
.btn-primary, .btn-primary:hover { color: #fff; background: var(--primary); border-color: var(--primary); }
.btn-danger { color: var(--danger); border-color: var(--danger); }
.btn:disabled { opacity: .55; cursor: progress; }
.card-footer { margin-top: 8px; font-size: 12px; color: var(--muted); overflow-wrap: anywhere; }
.thread-link { margin-top: 4px; padding: 2px 0; border: 0; background: none; font-size: 13px; color: #1c64d0; cursor: pointer; }
.thread-link:hover { text-decoration: underline; }

.empty { color: var(--muted); padding: 24px 8px; }
.empty-title { font-weight: 600; color: var(--text); }
.empty code, .hint code { background: var(--bg-soft); border: 1px solid var(--border); border-radius: 4px; padding: 1px 5px; }

.composer { flex: none; padding: 8px 20px 12px; border-top: 1px solid var(--border); }
.composer form { display: flex; gap: 8px; }
.composer input { flex: 1; min-width: 0; padding: 9px 12px; font: inherit; border: 1px solid #c4c9d2; border-radius: 8px; }
.composer input:focus, .comment-input:focus, select:focus { outline: 2px solid var(--accent); outline-offset: 1px; }
.hint { display: flex; flex-wrap: wrap; align-items: center; gap: 6px; margin: 6px 0 0; font-size: 12px; color: var(--muted); }
.chip { padding: 1px 8px; font-size: 12px; color: var(--text); background: var(--bg-soft); border: 1px solid var(--border); border-radius: 10px; cursor: pointer; }

.table-meta { padding: 12px 20px 0; font-size: 13px; color: var(--muted); }
.table-wrap { padding: 8px 20px 20px; overflow-x: auto; }
.data-table { border-collapse: collapse; font-size: 13px; min-width: 100%; }
.data-table th, .data-table td { padding: 6px 10px; border-bottom: 1px solid var(--border); text-align: left; vertical-align: top; }
.data-table th { position: sticky; top: 0; background: var(--bg-soft); font-weight: 600; white-space: nowrap; }
/* break-word (not anywhere): a column is never narrower than its longest word, so "pending" stays whole. */
.data-table td { max-width: 360px; white-space: pre-wrap; overflow-wrap: break-word; }

.thread-panel { width: 360px; flex: none; display: flex; flex-direction: column; border-left: 1px solid var(--border); background: #fff; }
.thread-header { display: flex; align-items: center; justify-content: space-between; padding: 12px 16px; border-bottom: 1px solid var(--border); }
.thread-header h2 { margin: 0; font-size: 16px; }
.close { border: 0; background: none; font-size: 20px; line-height: 1; color: var(--muted); cursor: pointer; }
.thread-body { flex: 1; overflow-y: auto; padding: 8px 8px 16px; }
.thread-root { margin: 4px 8px 8px; padding: 8px 10px; background: var(--bg-soft); border-radius: 8px; }
.thread-count { margin: 0 8px 4px; font-size: 12px; color: var(--muted); }

.toast { position: fixed; right: 20px; bottom: 20px; max-width: 420px; padding: 10px 14px; color: #fff; background: #2b2f3a; border-radius: 8px; box-shadow: 0 4px 16px rgba(0,0,0,.2); white-space: pre-wrap; overflow-wrap: anywhere; }

@media (max-width: 900px) {
  .sidebar { width: 200px; }
  .thread-panel { position: fixed; top: 0; right: 0; bottom: 0; width: min(360px, 90vw); box-shadow: -4px 0 16px rgba(0,0,0,.15); }
}
`;

// Client script. Rules: build DOM with el()/textContent only; never innerHTML or similar with any data.
// (Written without backticks or dollar-brace so it can live in this template literal verbatim.)
const SCRIPT = String.raw`
(() => {
  'use strict';
  const API = '/console/api';
  const BOT = { kind: 'bot', displayName: 'jitbot' };
  const $ = (id) => document.getElementById(id);

  const ui = {
    boot: null,
    userId: null,
    conversationId: null,
    tab: 'chat',
    threadRootId: null,
    data: null,
    drafts: new Map(),
    lastSeen: new Map(),
    history: [],
    historyIndex: 0,
    loading: false,
    reloadQueued: false,
  };

  // ---------- DOM helpers (text only) ----------

  function el(tag, props, children) {
    const node = document.createElement(tag);
    for (const key of Object.keys(props || {})) {
      const value = props[key];
      if (value === undefined || value === null || value === false) continue;
      if (key === 'class') node.className = value;
      else if (key === 'text') node.textContent = value;
      else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? '' : String(value));
    }
    for (const child of children || []) {
      if (child === undefined || child === null || child === false) continue;
      node.append(typeof child === 'string' ? document.createTextNode(child) : child);
    }
    return node;
  }

  // One time format on the whole page, the one the bot writes in its messages: 2025-03-01 14:05 (this browser's zone).
  function formatTime(at) {
    const date = new Date(at);
    const two = (n) => String(n).padStart(2, '0');
    return date.getFullYear() + '-' + two(date.getMonth() + 1) + '-' + two(date.getDate()) + ' ' +
      two(date.getHours()) + ':' + two(date.getMinutes());
  }

  const TIME_KEY = /(^at$|At$|Time$|^time$)/;

  function hashOf(text) {
    let hash = 0;
    for (let i = 0; i < text.length; i++) hash = (hash * 31 + text.charCodeAt(i)) >>> 0;
    return hash;
  }

  function avatar(author) {
    if (author.kind === 'bot') return el('div', { class: 'avatar avatar-bot', 'aria-hidden': 'true', text: 'J' });
    const initials = String(author.displayName || '?').split(/\s+/).filter(Boolean).slice(0, 2)
      .map((part) => Array.from(part)[0]).join('').toUpperCase();
    const palette = 'avatar-' + (hashOf(author.userId || author.displayName || '') % 6);
    return el('div', { class: 'avatar ' + palette, 'aria-hidden': 'true', text: initials || '?' });
  }

  let toastTimer;
  function showToast(text) {
    const toast = $('toast');
    toast.textContent = text;
    toast.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { toast.hidden = true; }, 7000);
  }

  // ---------- API ----------

  async function api(path, init) {
    const response = await fetch(API + path, Object.assign({ headers: { Accept: 'application/json' } }, init));
    let body = null;
    try { body = await response.json(); } catch (_) { body = null; }
    if (!response.ok) {
      const error = new Error((body && typeof body.error === 'string' && body.error) || ('HTTP ' + response.status));
      error.status = response.status;
      throw error;
    }
    return body;
  }

  function newDeliveryId() {
    if (window.crypto && typeof window.crypto.randomUUID === 'function') return 'web-' + window.crypto.randomUUID();
    const bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return 'web-' + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  }

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  // Every attempt carries the same delivery id: if an earlier attempt did reach jitbot, it recognises the repeat.
  async function send(path, payload) {
    const body = JSON.stringify(Object.assign({ deliveryId: newDeliveryId() }, payload));
    for (let attempt = 1; ; attempt++) {
      try {
        return await api(path, { method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json' }, body });
      } catch (error) {
        const retryable = error.status === undefined || error.status === 502 || error.status === 503 || error.status === 504;
        if (!retryable || attempt >= 3) throw error;
        await sleep(attempt * 700);
      }
    }
  }

  // ---------- state ----------

  async function refresh() {
    if (ui.loading) { ui.reloadQueued = true; return; }
    ui.loading = true;
    try {
      do {
        ui.reloadQueued = false;
        const userId = ui.userId;
        const data = await api('/state?user=' + encodeURIComponent(userId));
        if (userId !== ui.userId) { ui.reloadQueued = true; continue; }
        ui.data = data;
        render();
        if (ui.tab !== 'chat') await loadTable(ui.tab);
      } while (ui.reloadQueued);
    } catch (error) {
      showToast('Could not refresh: ' + error.message);
    } finally {
      ui.loading = false;
    }
  }

  function allConversations(data) { return data.channels.concat(data.dms); }
  function seenKey(conv) { return ui.userId + '|' + conv.id; }
  function ephemeralsIn(conv, data) { return data.ephemerals.filter((e) => e.conversationId === conv.id); }
  function activity(conv, data) {
    let count = ephemeralsIn(conv, data).length;
    for (const message of conv.messages) count += 1 + message.thread.length;
    return count;
  }

  // ---------- rendering ----------

  function render() {
    const data = ui.data;
    if (!data) return;
    const conversations = allConversations(data);
    let conv = conversations.find((c) => c.id === ui.conversationId);
    if (!conv) { conv = data.channels[0]; ui.conversationId = conv.id; ui.threadRootId = null; }
    $('user-description').textContent = data.user.description;
    if (ui.tab === 'chat') ui.lastSeen.set(seenKey(conv), activity(conv, data));
    renderSidebar(data, conv);
    renderHeader(conv, data);
    renderTabs();
    if (ui.tab === 'chat') renderMessages(conv, data);
    renderThread(conv);
  }

  function renderSidebar(data, current) {
    $('channel-list').replaceChildren(...data.channels.map((c) => conversationItem(c, data, current)));
    $('dm-list').replaceChildren(...data.dms.map((c) => conversationItem(c, data, current)));
  }

  function conversationItem(conv, data, current) {
    const active = ui.tab === 'chat' && conv.id === current.id;
    const unread = Math.max(0, activity(conv, data) - (ui.lastSeen.get(seenKey(conv)) || 0));
    const icon = conv.kind === 'dm' ? '@' : conv.private ? '🔒' : '#';
    return el('li', null, [
      el('button', {
        type: 'button',
        class: 'conversation' + (active ? ' active' : ''),
        'aria-current': active ? 'page' : null,
        title: conv.kind === 'channel' && conv.private ? 'Private channel' : null,
        onclick: () => openConversation(conv.id),
      }, [
        el('span', { class: 'conversation-icon', 'aria-hidden': 'true', text: icon }),
        el('span', { class: 'conversation-name', text: conv.name }),
        unread > 0 ? el('span', { class: 'badge', text: String(unread), 'aria-label': unread + ' new' }) : null,
      ]),
    ]);
  }

  function renderHeader(conv, data) {
    const title = $('conversation-title');
    const description = $('conversation-description');
    const note = $('private-note');
    note.hidden = true;
    if (ui.tab === 'requests' || ui.tab === 'audit') {
      title.textContent = ui.tab === 'requests' ? 'Requests' : 'Audit log';
      description.textContent = ui.tab === 'requests'
        ? 'Every access request jitbot knows about (read-only).'
        : 'Everything jitbot did, newest first (read-only).';
      return;
    }
    if (conv.kind === 'dm') {
      title.textContent = '@jitbot';
      description.textContent = 'Direct messages from jitbot to ' + data.user.displayName + '. Only they can see these.';
      return;
    }
    title.textContent = (conv.private ? '🔒 ' : '# ') + conv.name;
    description.textContent = conv.description || '';
    if (conv.private) {
      note.textContent = 'Private channel. In this local console every demo user can read it; on a real chat platform only its members can.';
      note.hidden = false;
    }
  }

  function renderTabs() {
    for (const tab of document.querySelectorAll('[data-tab]')) {
      const selected = tab.dataset.tab === ui.tab;
      tab.setAttribute('aria-selected', selected ? 'true' : 'false');
      tab.tabIndex = selected ? 0 : -1;
    }
    $('chat-view').hidden = ui.tab !== 'chat';
    $('requests-view').hidden = ui.tab !== 'requests';
    $('audit-view').hidden = ui.tab !== 'audit';
  }

  function captureFocus() {
    const active = document.activeElement;
    if (!active || !active.dataset || !active.dataset.draftKey) return null;
    return { key: active.dataset.draftKey, start: active.selectionStart, end: active.selectionEnd };
  }

  function restoreFocus(focus) {
    if (!focus) return;
    for (const input of document.querySelectorAll('textarea[data-draft-key]')) {
      if (input.dataset.draftKey !== focus.key) continue;
      input.focus();
      input.setSelectionRange(focus.start, focus.end);
      return;
    }
  }

  function renderMessages(conv, data) {
    const list = $('messages');
    const place = ui.userId + '|' + conv.id;
    const switched = list.dataset.place !== place;
    const nearBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
    const previousTop = list.scrollTop;
    const focus = captureFocus();

    const items = conv.messages.map((m) => ({ order: m.order, draw: () => renderMessage(m, conv) }))
      .concat(ephemeralsIn(conv, data).map((e) => ({ order: e.order, draw: () => renderEphemeral(e) })));
    items.sort((a, b) => a.order - b.order);
    const nodes = items.map((item) => item.draw());
    list.replaceChildren(...(nodes.length > 0 ? nodes : [emptyState(conv)]));

    list.dataset.place = place;
    list.scrollTop = switched || nearBottom ? list.scrollHeight : previousTop;
    restoreFocus(focus);
  }

  function messageMeta(author, at, extra) {
    return el('div', { class: 'message-meta' }, [
      el('span', { class: 'author', text: author.displayName }),
      author.kind === 'bot' ? el('span', { class: 'app-tag', text: 'APP' }) : null,
      el('time', { datetime: new Date(at).toISOString(), text: formatTime(at) }),
    ].concat(extra || []));
  }

  function renderMessage(message, conv) {
    const edited = message.editedAt ? el('span', { text: '(updated ' + formatTime(message.editedAt) + ')' }) : null;
    return el('article', { class: 'message' }, [
      avatar(message.author),
      el('div', { class: 'message-body' }, [
        messageMeta(message.author, message.at, [edited]),
        message.card ? renderCard(message, conv) : el('div', { class: 'message-text', text: message.text || '' }),
        threadLink(message),
      ]),
    ]);
  }

  function renderEphemeral(ephemeral) {
    return el('article', { class: 'message ephemeral ephemeral-' + (ephemeral.kind === 'error' ? 'error' : 'info') }, [
      avatar(BOT),
      el('div', { class: 'message-body' }, [
        messageMeta(BOT, ephemeral.at, [el('span', { class: 'only-you', text: '👁 Only visible to you' })]),
        el('div', { class: 'message-text', text: ephemeral.text }),
      ]),
    ]);
  }

  function threadLink(message) {
    const count = message.thread.length;
    if (count === 0 && !message.card) return null;
    const label = count === 0 ? 'Thread' : countLabel(count, 'reply', 'replies');
    return el('button', { type: 'button', class: 'thread-link', onclick: () => openThread(message.id) }, ['💬 ' + label]);
  }

  function renderCard(message, conv) {
    const card = message.card;
    const parts = [
      el('div', { class: 'card-title', text: card.title }),
      el('div', { class: 'card-status', text: card.statusText }),
    ];
    for (const notice of card.notices) {
      parts.push(el('div', { class: 'card-notice', role: 'note' }, [
        el('span', { 'aria-hidden': 'true', text: '⚠' }),
        el('span', { text: notice }),
      ]));
    }
    if (card.fields.length > 0) {
      parts.push(el('dl', { class: 'card-fields' }, card.fields.map((field) => el('div', { class: 'card-field' }, [
        el('dt', { text: field.label }),
        el('dd', { text: field.value }),
      ]))));
    }
    parts.push(el('div', { class: 'card-reason' }, [
      el('span', { class: 'card-label', text: card.reasonLabel }),
      el('p', { class: 'reason-text', text: card.reason }),
    ]));
    if (card.progress) parts.push(el('div', { class: 'card-progress', text: card.progress }));
    if (card.decisions.length > 0) {
      parts.push(el('ul', { class: 'card-decisions' }, card.decisions.map((decision) => el('li', null, [
        el('span', { text: decision.text }),
        decision.comment && decision.text.indexOf(decision.comment) === -1 ? el('blockquote', { text: decision.comment }) : null,
      ]))));
    }
    if (card.actions.length > 0) parts.push(renderCardActions(message, conv, card));
    if (card.footer) parts.push(el('div', { class: 'card-footer', text: card.footer }));
    const statusClass = 'status-' + String(card.status).replace(/[^a-z_]/g, '');
    return el('section', { class: 'card ' + statusClass, 'aria-label': card.title }, parts);
  }

  function renderCardActions(message, conv, card) {
    const draftKey = ui.userId + '|' + message.id;
    const parts = [];
    let textarea = null;
    if (card.commentInput) {
      const id = 'comment-' + String(message.id).replace(/[^A-Za-z0-9_-]/g, '');
      textarea = el('textarea', {
        id,
        class: 'comment-input',
        rows: 2,
        maxlength: card.commentInput.maxLength,
        placeholder: card.commentInput.placeholder,
        'data-draft-key': draftKey,
      });
      textarea.value = ui.drafts.get(draftKey) || '';
      textarea.addEventListener('input', () => ui.drafts.set(draftKey, textarea.value));
      parts.push(el('label', { class: 'card-label', for: id, text: card.commentInput.label }), textarea);
    }
    const buttons = card.actions.map((action) => el('button', {
      type: 'button',
      class: 'btn btn-' + (action.style === 'primary' || action.style === 'danger' ? action.style : 'default'),
      text: action.label,
    }));
    buttons.forEach((button, i) => button.addEventListener('click', () => {
      submitAction({ message, conv, card, action: card.actions[i], textarea, buttons, draftKey });
    }));
    parts.push(el('div', { class: 'card-buttons' }, buttons));
    return el('div', { class: 'card-actions' }, parts);
  }

  async function submitAction(click) {
    const confirmation = click.action.confirm;
    if (confirmation && !window.confirm(confirmation.title + '\n\n' + confirmation.text)) return;
    const comment = click.textarea ? click.textarea.value.trim() : '';
    for (const button of click.buttons) button.disabled = true;
    try {
      const reply = await send('/action', {
        user: ui.userId,
        channel: click.conv.id,
        messageId: click.message.id,
        requestId: click.card.requestId,
        action: click.action.id,
        comment: comment || undefined,
      });
      if (!reply || reply.kind !== 'error') ui.drafts.delete(click.draftKey);
    } catch (error) {
      showToast(error.message);
      for (const button of click.buttons) button.disabled = false;
    }
    refresh();
  }

  function emptyState(conv) {
    if (conv.kind === 'dm') {
      return el('div', { class: 'empty' }, [
        el('p', { class: 'empty-title', text: 'No direct messages yet.' }),
        el('p', { text: 'jitbot writes here when your access is granted, is about to expire, or ends.' }),
      ]);
    }
    return el('div', { class: 'empty' }, [
      el('p', { class: 'empty-title', text: 'Nothing here yet.' }),
      el('p', null, ['Ask for access by typing a command below, for example ', el('code', { text: '/jit web-1 fix nginx for 2h' }), '.']),
      el('p', { text: 'Then switch “Acting as” (top left) to an approver and decide on the card in their channel.' }),
    ]);
  }

  function openThread(messageId) {
    ui.threadRootId = messageId;
    render();
    $('thread-close').focus();
  }

  function renderThread(conv) {
    const panel = $('thread-panel');
    const root = ui.threadRootId ? conv.messages.find((m) => m.id === ui.threadRootId) : null;
    if (!root) ui.threadRootId = null;
    if (!root || ui.tab !== 'chat') { panel.hidden = true; return; }
    panel.hidden = false;
    const summary = root.card
      ? el('div', { class: 'thread-root' }, [
          el('div', { class: 'card-title', text: root.card.title }),
          el('div', { class: 'card-status', text: root.card.statusText }),
        ])
      : el('div', { class: 'thread-root message-text', text: root.text || '' });
    const count = root.thread.length;
    const replies = count > 0
      ? root.thread.map((reply) => el('article', { class: 'message' }, [
          avatar(reply.author),
          el('div', { class: 'message-body' }, [
            messageMeta(reply.author, reply.at),
            el('div', { class: 'message-text', text: reply.text }),
          ]),
        ]))
      : [el('p', { class: 'empty', text: 'No replies yet. jitbot posts each decision and change of state here.' })];
    const body = $('thread-body');
    body.replaceChildren(summary, el('div', { class: 'thread-count', text: countLabel(count, 'reply', 'replies') }), ...replies);
    body.scrollTop = body.scrollHeight;
  }

  // ---------- read-only tables ----------

  function humanize(key) {
    const words = String(key).replace(/Ms$/, '').replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/[_-]+/g, ' ').toLowerCase();
    return words.charAt(0).toUpperCase() + words.slice(1);
  }

  function countLabel(count, one, many) { return count + ' ' + (count === 1 ? one : many); }

  function clip(text, max) { return text.length > max ? text.slice(0, max - 1) + '…' : text; }

  // The views are whatever the server lists (requests, audit events): show the informative keys first and
  // leave out internal bookkeeping, so a newcomer sees a readable table rather than raw records.
  const FIRST_COLUMNS = ['id', 'seq', 'at', 'createdAt', 'status', 'actor', 'action', 'requestId', 'requester', 'target',
    'from', 'to', 'reason', 'comment', 'durationMs', 'policy', 'decisions', 'grant'];
  const HIDDEN_COLUMNS = ['outbox', 'cards', 'levels', 'version', 'origin', 'currentLevel', 'updatedAt', 'timeoutAt',
    'reminderIntervalMs', 'nextReminderAt', 'warnBeforeMs', 'expiryWarnedAt', 'prevHash', 'hash', 'deliveryId'];
  const MAX_COLUMNS = 12;

  function formatDuration(ms) {
    const minutes = Math.round(ms / 60000);
    if (minutes < 60) return minutes + 'm';
    const hours = Math.floor(minutes / 60);
    const rest = minutes % 60;
    return hours + 'h' + (rest ? rest + 'm' : '');
  }

  function formatObject(value) {
    if (typeof value.displayName === 'string') return value.displayName;
    if (typeof value.name === 'string' && typeof value.id === 'string') return value.name + ' (' + value.id + ')';
    if (typeof value.name === 'string') return value.name;
    if (typeof value.id === 'string') return value.id;
    return Object.keys(value)
      .filter((key) => value[key] !== null && typeof value[key] !== 'object')
      .map((key) => key + ': ' + cellText(key, value[key]))
      .join(', ');
  }

  function cellText(key, value) {
    if (value === undefined || value === null) return '';
    if (typeof value === 'number' && value > 1e11 && TIME_KEY.test(key)) return formatTime(value);
    if (typeof value === 'string' && TIME_KEY.test(key) && /^\d{4}-\d\d-\d\dT/.test(value) && !isNaN(Date.parse(value))) return formatTime(Date.parse(value));
    if (typeof value === 'number' && /Ms$/.test(key)) return formatDuration(value);
    if (Array.isArray(value)) {
      return clip(value.map((item) => (item !== null && typeof item === 'object' ? formatObject(item) : String(item))).join('; '), 300);
    }
    if (typeof value === 'object') return clip(formatObject(value), 300);
    return clip(String(value), 500);
  }

  function columnsOf(records) {
    const present = [];
    for (const record of records.slice(0, 100)) {
      for (const key of Object.keys(record)) if (present.indexOf(key) === -1 && HIDDEN_COLUMNS.indexOf(key) === -1) present.push(key);
    }
    const first = FIRST_COLUMNS.filter((key) => present.indexOf(key) !== -1);
    const rest = present.filter((key) => first.indexOf(key) === -1);
    return first.concat(rest).slice(0, MAX_COLUMNS);
  }

  function renderTable(view, kind, items) {
    if (items.length === 0) {
      view.replaceChildren(el('p', { class: 'empty', text: kind === 'requests' ? 'No requests yet.' : 'The audit log is empty.' }));
      return;
    }
    const isRecord = (item) => item !== null && typeof item === 'object' && !Array.isArray(item);
    const columns = columnsOf(items.filter(isRecord));
    const keys = columns.length > 0 ? columns : ['value'];
    const head = el('thead', null, [el('tr', null, keys.map((key) => el('th', { scope: 'col', text: humanize(key) })))]);
    const rows = items.map((item) => el('tr', null, keys.map((key) => el('td', {
      text: cellText(key, isRecord(item) ? item[key] : key === 'value' ? item : undefined),
    }))));
    view.replaceChildren(
      el('div', { class: 'table-meta', text: countLabel(items.length, kind === 'requests' ? 'request' : 'entry', kind === 'requests' ? 'requests' : 'entries') + ' · read-only' }),
      el('div', { class: 'table-wrap' }, [el('table', { class: 'data-table' }, [head, el('tbody', null, rows)])]),
    );
  }

  async function loadTable(kind) {
    const view = $(kind + '-view');
    try {
      const body = await api('/' + kind);
      renderTable(view, kind, body && Array.isArray(body.items) ? body.items : []);
    } catch (error) {
      view.replaceChildren(el('p', { class: 'empty', text: 'Could not load: ' + error.message }));
    }
  }

  // ---------- navigation and input ----------

  function openConversation(id) {
    ui.conversationId = id;
    ui.tab = 'chat';
    ui.threadRootId = null;
    render();
    $('composer-input').focus();
  }

  function openTab(tab) {
    ui.tab = tab;
    render();
    if (tab !== 'chat') loadTable(tab);
  }

  function switchUser(userId) {
    const wasDm = ui.conversationId && ui.conversationId.startsWith('dm:');
    ui.userId = userId;
    ui.threadRootId = null;
    if (wasDm) ui.conversationId = 'dm:' + userId;
    try { localStorage.setItem('jitbot.console.user', userId); } catch (_) { /* storage may be disabled */ }
    refresh();
  }

  async function submitCommand(event) {
    event.preventDefault();
    const input = $('composer-input');
    const text = input.value.trim();
    if (!text) return;
    ui.history.push(text);
    ui.historyIndex = ui.history.length;
    input.value = '';
    try {
      await send('/command', { user: ui.userId, channel: ui.conversationId, text });
    } catch (error) {
      showToast('Not sent: ' + error.message);
      if (!input.value) input.value = text;
    }
    refresh();
  }

  function browseHistory(event) {
    if (event.key !== 'ArrowUp' && event.key !== 'ArrowDown') return;
    if (ui.history.length === 0) return;
    const input = event.target;
    if (event.key === 'ArrowUp' && ui.historyIndex > 0) ui.historyIndex -= 1;
    else if (event.key === 'ArrowDown' && ui.historyIndex < ui.history.length) ui.historyIndex += 1;
    else return;
    event.preventDefault();
    input.value = ui.history[ui.historyIndex] || '';
  }

  function setLive(live) {
    const status = $('connection');
    status.classList.toggle('live', live);
    status.textContent = live ? 'Live' : 'Reconnecting…';
  }

  function connectEvents() {
    if (!window.EventSource) { setInterval(refresh, 3000); return; }
    const source = new EventSource(API + '/events');
    source.addEventListener('changed', (event) => {
      let seq = null;
      try { seq = JSON.parse(event.data).seq; } catch (_) { seq = null; }
      if (!ui.data || seq !== ui.data.seq || ui.tab !== 'chat') refresh();
    });
    source.addEventListener('open', () => setLive(true));
    source.addEventListener('error', () => setLive(false));
  }

  function wire() {
    $('user-select').addEventListener('change', (event) => switchUser(event.target.value));
    $('composer').addEventListener('submit', submitCommand);
    $('composer-input').addEventListener('keydown', browseHistory);
    $('thread-close').addEventListener('click', () => { ui.threadRootId = null; render(); });
    for (const tab of document.querySelectorAll('[data-tab]')) tab.addEventListener('click', () => openTab(tab.dataset.tab));
    for (const chip of document.querySelectorAll('[data-example]')) {
      chip.addEventListener('click', () => {
        const input = $('composer-input');
        input.value = chip.dataset.example;
        input.focus();
      });
    }
  }

  async function start() {
    wire();
    try {
      ui.boot = await api('/bootstrap');
    } catch (error) {
      showToast('Could not load the console: ' + error.message);
      return;
    }
    $('banner-text').textContent = ui.boot.notice;
    const select = $('user-select');
    select.replaceChildren(...ui.boot.users.map((user) => el('option', { value: user.userId, text: user.displayName })));
    let saved = null;
    try { saved = localStorage.getItem('jitbot.console.user'); } catch (_) { saved = null; }
    ui.userId = ui.boot.users.some((user) => user.userId === saved) ? saved : ui.boot.users[0].userId;
    select.value = ui.userId;
    const channels = ui.boot.channels;
    const first = channels.find((c) => c.id === 'requests') || channels.find((c) => !c.private) || channels[0];
    ui.conversationId = first.id;
    await refresh();
    connectEvents();
  }

  start();
})();
`;

const BANNER = 'Local console — binds to 127.0.0.1 only, no authentication';

export const CONSOLE_PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>jitbot · local console</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>
<div class="banner" role="note"><span id="banner-text">${BANNER}</span></div>
<div class="app">
  <aside class="sidebar" aria-label="Workspace">
    <div class="brand">jitbot<small>local console</small></div>
    <div class="user-picker">
      <label class="sidebar-label" for="user-select">Acting as</label>
      <select id="user-select"></select>
      <p class="user-description" id="user-description"></p>
    </div>
    <nav class="nav-section" aria-label="Channels"><h2>Channels</h2><ul id="channel-list"></ul></nav>
    <nav class="nav-section" aria-label="Direct messages"><h2>Direct messages</h2><ul id="dm-list"></ul></nav>
    <div class="connection" id="connection" role="status">Connecting…</div>
  </aside>
  <main>
    <header class="main-header">
      <h1 class="conversation-title" id="conversation-title">Loading…</h1>
      <p class="conversation-description" id="conversation-description"></p>
      <p class="private-note" id="private-note" hidden></p>
      <div class="tabs" role="tablist" aria-label="Views">
        <button type="button" class="tab" role="tab" data-tab="chat" aria-selected="true">Chat</button>
        <button type="button" class="tab" role="tab" data-tab="requests" aria-selected="false">Requests</button>
        <button type="button" class="tab" role="tab" data-tab="audit" aria-selected="false">Audit</button>
      </div>
    </header>
    <section class="view chat-view" id="chat-view" aria-label="Conversation">
      <div class="messages" id="messages" aria-live="polite"></div>
      <div class="composer">
        <form id="composer" autocomplete="off">
          <input id="composer-input" type="text" maxlength="2000" placeholder="/jit web-1 fix nginx for 2h" aria-label="Message">
          <button type="submit" class="btn btn-primary">Send</button>
        </form>
        <p class="hint">Try
          <button type="button" class="chip" data-example="/jit help">/jit help</button>
          <button type="button" class="chip" data-example="/jit list">/jit list</button>
          <button type="button" class="chip" data-example="/jit web-1 fix nginx for 2h">/jit web-1 fix nginx for 2h</button>
          · ↑ recalls your last command</p>
      </div>
    </section>
    <section class="view" id="requests-view" hidden aria-label="Requests"></section>
    <section class="view" id="audit-view" hidden aria-label="Audit log"></section>
  </main>
  <aside class="thread-panel" id="thread-panel" hidden aria-label="Thread">
    <div class="thread-header"><h2>Thread</h2><button type="button" class="close" id="thread-close" aria-label="Close thread">×</button></div>
    <div class="thread-body" id="thread-body"></div>
  </aside>
</div>
<div class="toast" id="toast" role="alert" hidden></div>
<script>${SCRIPT}</script>
</body>
</html>
`;

function sha256(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

/** Only the page's own inline style and script may run; it may talk only to its own origin. */
export const CONSOLE_PAGE_CSP = [
  "default-src 'none'",
  `script-src ${sha256(SCRIPT)}`,
  `style-src ${sha256(STYLE)}`,
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The client script, exposed for tests that check how it treats data. */
export const CONSOLE_PAGE_SCRIPT = SCRIPT;
