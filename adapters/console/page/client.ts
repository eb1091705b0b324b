// The console page's script: draws what /console/api says and sends what the person does. Runs in the browser
// as a classic script (served as /console/assets/client.js, allowed by the page's Content-Security-Policy).
// Rule: build the DOM with el() and textContent only; nothing that parses data as HTML.

// What the page reads from /console/api (adapters/console/workspace.ts and render.ts define it on the server).
type Author =
  | { kind: 'user'; userId: string; displayName: string }
  | { kind: 'bot'; displayName: string; userId?: undefined };
interface CardAction {
  id: string;
  label: string;
  style: string;
  confirm?: { title: string; text: string; confirm: string; deny: string };
}
interface Card {
  requestId: string;
  status: string;
  title: string;
  statusText: string;
  fields: { label: string; value: string }[];
  reasonLabel: string;
  reason: string;
  progress?: string;
  decisions: { text: string; comment?: string }[];
  notices: string[];
  actions: CardAction[];
  commentInput?: { label: string; placeholder: string; maxLength: number };
  footer?: string;
}
interface ThreadReply {
  id: string;
  at: number;
  author: Author;
  text: string;
}
interface Message {
  id: string;
  order: number;
  at: number;
  author: Author;
  text?: string;
  card?: Card;
  editedAt?: number;
  thread: ThreadReply[];
}
interface Ephemeral {
  id: string;
  order: number;
  at: number;
  conversationId: string;
  kind: 'info' | 'error';
  text: string;
}
interface Conversation {
  id: string;
  kind: 'channel' | 'dm';
  name: string;
  private: boolean;
  description?: string;
  messages: Message[];
}
interface UserState {
  seq: number;
  user: { userId: string; displayName: string; description: string };
  channels: Conversation[];
  dms: Conversation[];
  ephemerals: Ephemeral[];
}
interface Bootstrap {
  notice: string;
  users: { userId: string; displayName: string }[];
  channels: { id: string; private: boolean }[];
}
interface Reply {
  kind: 'info' | 'error' | 'none';
  text?: string;
}
type Tab = 'chat' | 'requests' | 'audit';
type Child = Node | string | null | undefined | false;
type Props = Record<string, unknown> | null;
interface HttpError extends Error {
  status?: number;
}
interface CardClick {
  message: Message;
  conv: Conversation;
  card: Card;
  action: CardAction;
  textarea: HTMLTextAreaElement | null;
  buttons: HTMLButtonElement[];
  draftKey: string;
}

(() => {
  const API = '/console/api';
  const BOT: Author = { kind: 'bot', displayName: 'jitbot' };
  /** An element the page's markup always has. */
  const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
    const found = document.getElementById(id);
    if (!found) throw new Error('the page has no #' + id);
    return found as T;
  };

  const ui = {
    boot: null as Bootstrap | null,
    userId: '',
    conversationId: '',
    tab: 'chat' as Tab,
    threadRootId: null as string | null,
    data: null as UserState | null,
    drafts: new Map<string, string>(),
    lastSeen: new Map<string, number>(),
    history: [] as string[],
    historyIndex: 0,
    loading: false,
    reloadQueued: false,
  };

  // ---------- DOM helpers (text only) ----------

  function el<K extends keyof HTMLElementTagNameMap>(
    tag: K,
    props?: Props,
    children?: readonly Child[],
  ): HTMLElementTagNameMap[K] {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === 'class') node.className = String(value);
      else if (key === 'text') node.textContent = String(value);
      else if (key.startsWith('on')) node.addEventListener(key.slice(2), value as EventListener);
      else node.setAttribute(key, value === true ? '' : String(value));
    }
    for (const child of children || []) {
      if (child === undefined || child === null || child === false) continue;
      node.append(typeof child === 'string' ? document.createTextNode(child) : child);
    }
    return node;
  }

  // One time format on the whole page, the one the bot writes in its messages: 2025-03-01 14:05 (this browser's zone).
  function formatTime(at: number): string {
    const date = new Date(at);
    const two = (n: number) => String(n).padStart(2, '0');
    return (
      date.getFullYear() +
      '-' +
      two(date.getMonth() + 1) +
      '-' +
      two(date.getDate()) +
      ' ' +
      two(date.getHours()) +
      ':' +
      two(date.getMinutes())
    );
  }

  const TIME_KEY = /(^at$|At$|Time$|^time$)/;

  function hashOf(text: string): number {
    let hash = 0;
    for (let i = 0; i < text.length; i++) hash = (hash * 31 + text.charCodeAt(i)) >>> 0;
    return hash;
  }

  function avatar(author: Author): HTMLElement {
    if (author.kind === 'bot') return el('div', { class: 'avatar avatar-bot', 'aria-hidden': 'true', text: 'J' });
    const initials = String(author.displayName || '?')
      .split(/\s+/)
      .filter(Boolean)
      .slice(0, 2)
      .map((part) => Array.from(part)[0])
      .join('')
      .toUpperCase();
    const palette = 'avatar-' + (hashOf(author.userId || author.displayName || '') % 6);
    return el('div', { class: 'avatar ' + palette, 'aria-hidden': 'true', text: initials || '?' });
  }

  let toastTimer: ReturnType<typeof setTimeout> | undefined;
  function showToast(text: string): void {
    const toast = $('toast');
    toast.textContent = text;
    toast.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => {
      toast.hidden = true;
    }, 7000);
  }

  // ---------- API ----------

  async function api<T>(path: string, init?: RequestInit): Promise<T> {
    const response = await fetch(API + path, Object.assign({ headers: { Accept: 'application/json' } }, init));
    let body: unknown = null;
    try {
      body = await response.json();
    } catch (_) {
      body = null;
    }
    if (!response.ok) {
      const reason = body !== null && typeof body === 'object' ? (body as { error?: unknown }).error : undefined;
      const error: HttpError = new Error((typeof reason === 'string' && reason) || 'HTTP ' + response.status);
      error.status = response.status;
      throw error;
    }
    return body as T;
  }

  function newDeliveryId(): string {
    if (window.crypto && typeof window.crypto.randomUUID === 'function') return 'web-' + window.crypto.randomUUID();
    const bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return 'web-' + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  }

  const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

  // Every attempt carries the same delivery id: if an earlier attempt did reach jitbot, it recognises the repeat.
  async function send(path: string, payload: Record<string, unknown>): Promise<Reply> {
    const body = JSON.stringify(Object.assign({ deliveryId: newDeliveryId() }, payload));
    for (let attempt = 1; ; attempt++) {
      try {
        return await api<Reply>(path, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
          body,
        });
      } catch (caught) {
        const error = caught as HttpError;
        const retryable =
          error.status === undefined || error.status === 502 || error.status === 503 || error.status === 504;
        if (!retryable || attempt >= 3) throw error;
        await sleep(attempt * 700);
      }
    }
  }

  // ---------- state ----------

  async function refresh(): Promise<void> {
    if (ui.loading) {
      ui.reloadQueued = true;
      return;
    }
    ui.loading = true;
    try {
      do {
        ui.reloadQueued = false;
        const userId = ui.userId;
        const data = await api<UserState>('/state?user=' + encodeURIComponent(userId));
        if (userId !== ui.userId) {
          ui.reloadQueued = true;
          continue;
        }
        ui.data = data;
        render();
        if (ui.tab !== 'chat') await loadTable(ui.tab);
      } while (ui.reloadQueued);
    } catch (error) {
      showToast('Could not refresh: ' + describe(error));
    } finally {
      ui.loading = false;
    }
  }

  function allConversations(data: UserState): Conversation[] {
    return data.channels.concat(data.dms);
  }
  function seenKey(conv: Conversation): string {
    return ui.userId + '|' + conv.id;
  }
  function ephemeralsIn(conv: Conversation, data: UserState): Ephemeral[] {
    return data.ephemerals.filter((e) => e.conversationId === conv.id);
  }
  function activity(conv: Conversation, data: UserState): number {
    let count = ephemeralsIn(conv, data).length;
    for (const message of conv.messages) count += 1 + message.thread.length;
    return count;
  }

  // ---------- rendering ----------

  function render(): void {
    const data = ui.data;
    if (!data) return;
    const conversations = allConversations(data);
    let conv = conversations.find((c) => c.id === ui.conversationId);
    if (!conv) {
      conv = data.channels[0];
      if (!conv) return;
      ui.conversationId = conv.id;
      ui.threadRootId = null;
    }
    $('user-description').textContent = data.user.description;
    if (ui.tab === 'chat') ui.lastSeen.set(seenKey(conv), activity(conv, data));
    renderSidebar(data, conv);
    renderHeader(conv, data);
    renderTabs();
    if (ui.tab === 'chat') renderMessages(conv, data);
    renderThread(conv);
  }

  function renderSidebar(data: UserState, current: Conversation): void {
    $('channel-list').replaceChildren(...data.channels.map((c) => conversationItem(c, data, current)));
    $('dm-list').replaceChildren(...data.dms.map((c) => conversationItem(c, data, current)));
  }

  function conversationItem(conv: Conversation, data: UserState, current: Conversation): HTMLElement {
    const active = ui.tab === 'chat' && conv.id === current.id;
    const unread = Math.max(0, activity(conv, data) - (ui.lastSeen.get(seenKey(conv)) || 0));
    const icon = conv.kind === 'dm' ? '@' : conv.private ? '🔒' : '#';
    return el('li', null, [
      el(
        'button',
        {
          type: 'button',
          class: 'conversation' + (active ? ' active' : ''),
          'aria-current': active ? 'page' : null,
          title: conv.kind === 'channel' && conv.private ? 'Private channel' : null,
          onclick: () => openConversation(conv.id),
        },
        [
          el('span', { class: 'conversation-icon', 'aria-hidden': 'true', text: icon }),
          el('span', { class: 'conversation-name', text: conv.name }),
          unread > 0 ? el('span', { class: 'badge', text: String(unread), 'aria-label': unread + ' new' }) : null,
        ],
      ),
    ]);
  }

  function renderHeader(conv: Conversation, data: UserState): void {
    const title = $('conversation-title');
    const description = $('conversation-description');
    const note = $('private-note');
    note.hidden = true;
    if (ui.tab === 'requests' || ui.tab === 'audit') {
      title.textContent = ui.tab === 'requests' ? 'Requests' : 'Audit log';
      description.textContent =
        ui.tab === 'requests'
          ? 'Every access request jitbot knows about (read-only).'
          : 'Everything jitbot did, newest first (read-only).';
      return;
    }
    if (conv.kind === 'dm') {
      title.textContent = '@jitbot';
      description.textContent =
        'Direct messages from jitbot to ' + data.user.displayName + '. Only they can see these.';
      return;
    }
    title.textContent = (conv.private ? '🔒 ' : '# ') + conv.name;
    description.textContent = conv.description || '';
    if (conv.private) {
      note.textContent =
        'Private channel. In this local console every demo user can read it; on a real chat platform only its members can.';
      note.hidden = false;
    }
  }

  function renderTabs(): void {
    for (const tab of document.querySelectorAll<HTMLElement>('[data-tab]')) {
      const selected = tab.dataset.tab === ui.tab;
      tab.setAttribute('aria-selected', selected ? 'true' : 'false');
      tab.tabIndex = selected ? 0 : -1;
    }
    $('chat-view').hidden = ui.tab !== 'chat';
    $('requests-view').hidden = ui.tab !== 'requests';
    $('audit-view').hidden = ui.tab !== 'audit';
  }

  function captureFocus(): { key: string; start: number | null; end: number | null } | null {
    const active = document.activeElement;
    if (!(active instanceof HTMLTextAreaElement) || !active.dataset.draftKey) return null;
    return { key: active.dataset.draftKey, start: active.selectionStart, end: active.selectionEnd };
  }

  function restoreFocus(focus: ReturnType<typeof captureFocus>): void {
    if (!focus) return;
    for (const input of document.querySelectorAll<HTMLTextAreaElement>('textarea[data-draft-key]')) {
      if (input.dataset.draftKey !== focus.key) continue;
      input.focus();
      input.setSelectionRange(focus.start, focus.end);
      return;
    }
  }

  function renderMessages(conv: Conversation, data: UserState): void {
    const list = $('messages');
    const place = ui.userId + '|' + conv.id;
    const switched = list.dataset.place !== place;
    const nearBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
    const previousTop = list.scrollTop;
    const focus = captureFocus();

    const items = conv.messages
      .map((m) => ({ order: m.order, draw: () => renderMessage(m, conv) }))
      .concat(ephemeralsIn(conv, data).map((e) => ({ order: e.order, draw: () => renderEphemeral(e) })));
    items.sort((a, b) => a.order - b.order);
    const nodes = items.map((item) => item.draw());
    list.replaceChildren(...(nodes.length > 0 ? nodes : [emptyState(conv)]));

    list.dataset.place = place;
    list.scrollTop = switched || nearBottom ? list.scrollHeight : previousTop;
    restoreFocus(focus);
  }

  function messageMeta(author: Author, at: number, extra?: Child[]): HTMLElement {
    return el(
      'div',
      { class: 'message-meta' },
      (
        [
          el('span', { class: 'author', text: author.displayName }),
          author.kind === 'bot' ? el('span', { class: 'app-tag', text: 'APP' }) : null,
          el('time', { datetime: new Date(at).toISOString(), text: formatTime(at) }),
        ] as Child[]
      ).concat(extra || []),
    );
  }

  function renderMessage(message: Message, conv: Conversation): HTMLElement {
    const edited = message.editedAt ? el('span', { text: '(updated ' + formatTime(message.editedAt) + ')' }) : null;
    return el('article', { class: 'message' }, [
      avatar(message.author),
      el('div', { class: 'message-body' }, [
        messageMeta(message.author, message.at, [edited]),
        message.card
          ? renderCard(message, conv, message.card)
          : el('div', { class: 'message-text', text: message.text || '' }),
        threadLink(message),
      ]),
    ]);
  }

  function renderEphemeral(ephemeral: Ephemeral): HTMLElement {
    return el('article', { class: 'message ephemeral ephemeral-' + (ephemeral.kind === 'error' ? 'error' : 'info') }, [
      avatar(BOT),
      el('div', { class: 'message-body' }, [
        messageMeta(BOT, ephemeral.at, [el('span', { class: 'only-you', text: '👁 Only visible to you' })]),
        el('div', { class: 'message-text', text: ephemeral.text }),
      ]),
    ]);
  }

  function threadLink(message: Message): HTMLElement | null {
    const count = message.thread.length;
    if (count === 0 && !message.card) return null;
    const label = count === 0 ? 'Thread' : countLabel(count, 'reply', 'replies');
    return el('button', { type: 'button', class: 'thread-link', onclick: () => openThread(message.id) }, [
      '💬 ' + label,
    ]);
  }

  function renderCard(message: Message, conv: Conversation, card: Card): HTMLElement {
    const parts: HTMLElement[] = [
      el('div', { class: 'card-title', text: card.title }),
      el('div', { class: 'card-status', text: card.statusText }),
    ];
    for (const notice of card.notices) {
      parts.push(
        el('div', { class: 'card-notice', role: 'note' }, [
          el('span', { 'aria-hidden': 'true', text: '⚠' }),
          el('span', { text: notice }),
        ]),
      );
    }
    if (card.fields.length > 0) {
      parts.push(
        el(
          'dl',
          { class: 'card-fields' },
          card.fields.map((field) =>
            el('div', { class: 'card-field' }, [el('dt', { text: field.label }), el('dd', { text: field.value })]),
          ),
        ),
      );
    }
    parts.push(
      el('div', { class: 'card-reason' }, [
        el('span', { class: 'card-label', text: card.reasonLabel }),
        el('p', { class: 'reason-text', text: card.reason }),
      ]),
    );
    if (card.progress) parts.push(el('div', { class: 'card-progress', text: card.progress }));
    if (card.decisions.length > 0) {
      parts.push(
        el(
          'ul',
          { class: 'card-decisions' },
          card.decisions.map((decision) =>
            el('li', null, [
              el('span', { text: decision.text }),
              decision.comment && decision.text.indexOf(decision.comment) === -1
                ? el('blockquote', { text: decision.comment })
                : null,
            ]),
          ),
        ),
      );
    }
    if (card.actions.length > 0) parts.push(renderCardActions(message, conv, card));
    if (card.footer) parts.push(el('div', { class: 'card-footer', text: card.footer }));
    const statusClass = 'status-' + String(card.status).replace(/[^a-z_]/g, '');
    return el('section', { class: 'card ' + statusClass, 'aria-label': card.title }, parts);
  }

  function renderCardActions(message: Message, conv: Conversation, card: Card): HTMLElement {
    const draftKey = ui.userId + '|' + message.id;
    const parts: HTMLElement[] = [];
    let textarea: HTMLTextAreaElement | null = null;
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
      const input = textarea;
      input.addEventListener('input', () => ui.drafts.set(draftKey, input.value));
      parts.push(el('label', { class: 'card-label', for: id, text: card.commentInput.label }), textarea);
    }
    const buttons = card.actions.map((action) =>
      el('button', {
        type: 'button',
        class: 'btn btn-' + (action.style === 'primary' || action.style === 'danger' ? action.style : 'default'),
        text: action.label,
      }),
    );
    card.actions.forEach((action, i) =>
      buttons[i]!.addEventListener('click', () => {
        void submitAction({ message, conv, card, action, textarea, buttons, draftKey });
      }),
    );
    parts.push(el('div', { class: 'card-buttons' }, buttons));
    return el('div', { class: 'card-actions' }, parts);
  }

  async function submitAction(click: CardClick): Promise<void> {
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
      if (reply?.kind !== 'error') ui.drafts.delete(click.draftKey);
    } catch (error) {
      showToast(describe(error));
      for (const button of click.buttons) button.disabled = false;
    }
    void refresh();
  }

  function emptyState(conv: Conversation): HTMLElement {
    if (conv.kind === 'dm') {
      return el('div', { class: 'empty' }, [
        el('p', { class: 'empty-title', text: 'No direct messages yet.' }),
        el('p', { text: 'jitbot writes here when your access is granted, is about to expire, or ends.' }),
      ]);
    }
    return el('div', { class: 'empty' }, [
      el('p', { class: 'empty-title', text: 'Nothing here yet.' }),
      el('p', null, [
        'Ask for access by typing a command below, for example ',
        el('code', { text: '/jit web-1 fix nginx for 2h' }),
        '.',
      ]),
      el('p', { text: 'Then switch “Acting as” (top left) to an approver and decide on the card in their channel.' }),
    ]);
  }

  function openThread(messageId: string): void {
    ui.threadRootId = messageId;
    render();
    $('thread-close').focus();
  }

  function renderThread(conv: Conversation): void {
    const panel = $('thread-panel');
    const root = ui.threadRootId ? conv.messages.find((m) => m.id === ui.threadRootId) : null;
    if (!root) ui.threadRootId = null;
    if (!root || ui.tab !== 'chat') {
      panel.hidden = true;
      return;
    }
    panel.hidden = false;
    const summary = root.card
      ? el('div', { class: 'thread-root' }, [
          el('div', { class: 'card-title', text: root.card.title }),
          el('div', { class: 'card-status', text: root.card.statusText }),
        ])
      : el('div', { class: 'thread-root message-text', text: root.text || '' });
    const count = root.thread.length;
    const replies =
      count > 0
        ? root.thread.map((reply) =>
            el('article', { class: 'message' }, [
              avatar(reply.author),
              el('div', { class: 'message-body' }, [
                messageMeta(reply.author, reply.at),
                el('div', { class: 'message-text', text: reply.text }),
              ]),
            ]),
          )
        : [el('p', { class: 'empty', text: 'No replies yet. jitbot posts each decision and change of state here.' })];
    const body = $('thread-body');
    body.replaceChildren(
      summary,
      el('div', { class: 'thread-count', text: countLabel(count, 'reply', 'replies') }),
      ...replies,
    );
    body.scrollTop = body.scrollHeight;
  }

  // ---------- read-only tables ----------

  function humanize(key: string): string {
    const words = String(key)
      .replace(/Ms$/, '')
      .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
      .replace(/[_-]+/g, ' ')
      .toLowerCase();
    return words.charAt(0).toUpperCase() + words.slice(1);
  }

  function countLabel(count: number, one: string, many: string): string {
    return count + ' ' + (count === 1 ? one : many);
  }

  function clip(text: string, max: number): string {
    return text.length > max ? text.slice(0, max - 1) + '…' : text;
  }

  // The views are whatever the server lists (requests, audit events): show the informative keys first and
  // leave out internal bookkeeping, so a newcomer sees a readable table rather than raw records.
  const FIRST_COLUMNS = [
    'id',
    'seq',
    'at',
    'createdAt',
    'status',
    'actor',
    'action',
    'requestId',
    'requester',
    'target',
    'from',
    'to',
    'reason',
    'comment',
    'durationMs',
    'policy',
    'decisions',
    'grant',
  ];
  const HIDDEN_COLUMNS = [
    'outbox',
    'cards',
    'levels',
    'version',
    'origin',
    'currentLevel',
    'updatedAt',
    'timeoutAt',
    'reminderIntervalMs',
    'nextReminderAt',
    'warnBeforeMs',
    'expiryWarnedAt',
    'prevHash',
    'hash',
    'deliveryId',
  ];
  const MAX_COLUMNS = 12;

  function formatDuration(ms: number): string {
    const minutes = Math.round(ms / 60000);
    if (minutes < 60) return minutes + 'm';
    const hours = Math.floor(minutes / 60);
    const rest = minutes % 60;
    return hours + 'h' + (rest ? rest + 'm' : '');
  }

  function formatObject(value: Record<string, unknown>): string {
    if (typeof value.displayName === 'string') return value.displayName;
    if (typeof value.name === 'string' && typeof value.id === 'string') return value.name + ' (' + value.id + ')';
    if (typeof value.name === 'string') return value.name;
    if (typeof value.id === 'string') return value.id;
    return Object.keys(value)
      .filter((key) => value[key] !== null && typeof value[key] !== 'object')
      .map((key) => key + ': ' + cellText(key, value[key]))
      .join(', ');
  }

  function cellText(key: string, value: unknown): string {
    if (value === undefined || value === null) return '';
    if (typeof value === 'number' && value > 1e11 && TIME_KEY.test(key)) return formatTime(value);
    if (
      typeof value === 'string' &&
      TIME_KEY.test(key) &&
      /^\d{4}-\d\d-\d\dT/.test(value) &&
      !Number.isNaN(Date.parse(value))
    )
      return formatTime(Date.parse(value));
    if (typeof value === 'number' && /Ms$/.test(key)) return formatDuration(value);
    if (Array.isArray(value)) {
      return clip(
        value
          .map((item: unknown) =>
            item !== null && typeof item === 'object' ? formatObject(item as Record<string, unknown>) : String(item),
          )
          .join('; '),
        300,
      );
    }
    if (typeof value === 'object') return clip(formatObject(value as Record<string, unknown>), 300);
    return clip(String(value), 500);
  }

  function columnsOf(records: Record<string, unknown>[]): string[] {
    const present: string[] = [];
    for (const record of records.slice(0, 100)) {
      for (const key of Object.keys(record))
        if (present.indexOf(key) === -1 && HIDDEN_COLUMNS.indexOf(key) === -1) present.push(key);
    }
    const first = FIRST_COLUMNS.filter((key) => present.indexOf(key) !== -1);
    const rest = present.filter((key) => first.indexOf(key) === -1);
    return first.concat(rest).slice(0, MAX_COLUMNS);
  }

  function renderTable(view: HTMLElement, kind: string, items: unknown[]): void {
    if (items.length === 0) {
      view.replaceChildren(
        el('p', { class: 'empty', text: kind === 'requests' ? 'No requests yet.' : 'The audit log is empty.' }),
      );
      return;
    }
    const isRecord = (item: unknown): item is Record<string, unknown> =>
      item !== null && typeof item === 'object' && !Array.isArray(item);
    const columns = columnsOf(items.filter(isRecord));
    const keys = columns.length > 0 ? columns : ['value'];
    const head = el('thead', null, [
      el(
        'tr',
        null,
        keys.map((key) => el('th', { scope: 'col', text: humanize(key) })),
      ),
    ]);
    const rows = items.map((item) =>
      el(
        'tr',
        null,
        keys.map((key) =>
          el('td', {
            text: cellText(key, isRecord(item) ? item[key] : key === 'value' ? item : undefined),
          }),
        ),
      ),
    );
    view.replaceChildren(
      el('div', {
        class: 'table-meta',
        text:
          countLabel(
            items.length,
            kind === 'requests' ? 'request' : 'entry',
            kind === 'requests' ? 'requests' : 'entries',
          ) + ' · read-only',
      }),
      el('div', { class: 'table-wrap' }, [el('table', { class: 'data-table' }, [head, el('tbody', null, rows)])]),
    );
  }

  async function loadTable(kind: string): Promise<void> {
    const view = $(kind + '-view');
    try {
      const body = await api<{ items?: unknown } | null>('/' + kind);
      renderTable(view, kind, body && Array.isArray(body.items) ? body.items : []);
    } catch (error) {
      view.replaceChildren(el('p', { class: 'empty', text: 'Could not load: ' + describe(error) }));
    }
  }

  // ---------- navigation and input ----------

  function openConversation(id: string): void {
    ui.conversationId = id;
    ui.tab = 'chat';
    ui.threadRootId = null;
    render();
    $('composer-input').focus();
  }

  function openTab(tab: Tab): void {
    ui.tab = tab;
    render();
    if (tab !== 'chat') void loadTable(tab);
  }

  function switchUser(userId: string): void {
    const wasDm = ui.conversationId?.startsWith('dm:');
    ui.userId = userId;
    ui.threadRootId = null;
    if (wasDm) ui.conversationId = 'dm:' + userId;
    try {
      localStorage.setItem('jitbot.console.user', userId);
    } catch (_) {
      /* storage may be disabled */
    }
    void refresh();
  }

  async function submitCommand(event: Event): Promise<void> {
    event.preventDefault();
    const input = $<HTMLInputElement>('composer-input');
    const text = input.value.trim();
    if (!text) return;
    ui.history.push(text);
    ui.historyIndex = ui.history.length;
    input.value = '';
    try {
      await send('/command', { user: ui.userId, channel: ui.conversationId, text });
    } catch (error) {
      showToast('Not sent: ' + describe(error));
      if (!input.value) input.value = text;
    }
    void refresh();
  }

  function browseHistory(event: KeyboardEvent): void {
    if (event.key !== 'ArrowUp' && event.key !== 'ArrowDown') return;
    if (ui.history.length === 0) return;
    const input = event.target as HTMLInputElement;
    if (event.key === 'ArrowUp' && ui.historyIndex > 0) ui.historyIndex -= 1;
    else if (event.key === 'ArrowDown' && ui.historyIndex < ui.history.length) ui.historyIndex += 1;
    else return;
    event.preventDefault();
    input.value = ui.history[ui.historyIndex] || '';
  }

  function setLive(live: boolean): void {
    const status = $('connection');
    status.classList.toggle('live', live);
    status.textContent = live ? 'Live' : 'Reconnecting…';
  }

  function connectEvents(): void {
    if (!window.EventSource) {
      setInterval(() => void refresh(), 3000);
      return;
    }
    const source = new EventSource(API + '/events');
    source.addEventListener('changed', (event) => {
      let seq: unknown = null;
      try {
        seq = (JSON.parse((event as MessageEvent<string>).data) as { seq?: unknown }).seq;
      } catch (_) {
        seq = null;
      }
      if (!ui.data || seq !== ui.data.seq || ui.tab !== 'chat') void refresh();
    });
    source.addEventListener('open', () => setLive(true));
    source.addEventListener('error', () => setLive(false));
  }

  function wire(): void {
    const select = $<HTMLSelectElement>('user-select');
    select.addEventListener('change', () => switchUser(select.value));
    $('composer').addEventListener('submit', (event) => void submitCommand(event));
    $('composer-input').addEventListener('keydown', browseHistory);
    $('thread-close').addEventListener('click', () => {
      ui.threadRootId = null;
      render();
    });
    for (const tab of document.querySelectorAll<HTMLElement>('[data-tab]'))
      tab.addEventListener('click', () => openTab(tab.dataset.tab as Tab));
    for (const chip of document.querySelectorAll<HTMLElement>('[data-example]')) {
      chip.addEventListener('click', () => {
        const input = $<HTMLInputElement>('composer-input');
        input.value = chip.dataset.example ?? '';
        input.focus();
      });
    }
  }

  async function start(): Promise<void> {
    wire();
    try {
      ui.boot = await api<Bootstrap>('/bootstrap');
    } catch (error) {
      showToast('Could not load the console: ' + describe(error));
      return;
    }
    const boot = ui.boot;
    $('banner-text').textContent = boot.notice;
    const select = $<HTMLSelectElement>('user-select');
    select.replaceChildren(...boot.users.map((user) => el('option', { value: user.userId, text: user.displayName })));
    let saved: string | null = null;
    try {
      saved = localStorage.getItem('jitbot.console.user');
    } catch (_) {
      saved = null;
    }
    const firstUser = boot.users[0];
    if (!firstUser) {
      showToast('The console has no users.');
      return;
    }
    ui.userId = saved !== null && boot.users.some((user) => user.userId === saved) ? saved : firstUser.userId;
    select.value = ui.userId;
    const channels = boot.channels;
    const first = channels.find((c) => c.id === 'requests') || channels.find((c) => !c.private) || channels[0];
    if (!first) {
      showToast('The console has no channels.');
      return;
    }
    ui.conversationId = first.id;
    await refresh();
    connectEvents();
  }

  function describe(error: unknown): string {
    return error instanceof Error ? error.message : String(error);
  }

  void start();
})();
