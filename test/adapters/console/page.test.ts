import { createHash } from 'node:crypto';
import vm from 'node:vm';
import { CONSOLE_PAGE_CSP, CONSOLE_PAGE_HTML, CONSOLE_PAGE_SCRIPT } from '../../../adapters/console/page';

describe('console page', () => {
  test('the client script is valid JavaScript', () => {
    expect(() => new vm.Script(CONSOLE_PAGE_SCRIPT)).not.toThrow();
  });

  test('the script never turns data into HTML', () => {
    for (const sink of ['innerHTML', 'outerHTML', 'insertAdjacentHTML', 'document.write', 'eval(', 'new Function', 'DOMParser']) {
      expect(CONSOLE_PAGE_SCRIPT).not.toContain(sink);
    }
    // Text goes through textContent / text nodes, e.g. message text and card reason.
    expect(CONSOLE_PAGE_SCRIPT).toContain("else if (key === 'text') node.textContent = value;");
    expect(CONSOLE_PAGE_SCRIPT).toContain("el('div', { class: 'message-text', text: message.text || '' })");
    expect(CONSOLE_PAGE_SCRIPT).toContain("el('p', { class: 'reason-text', text: card.reason })");
  });

  test('the whole page is static: no server data is interpolated into it', () => {
    expect(CONSOLE_PAGE_HTML).not.toMatch(/\$\{/);
    expect(CONSOLE_PAGE_HTML.match(/<script[\s>]/g)).toHaveLength(1);
    expect(CONSOLE_PAGE_HTML).not.toMatch(/<script[^>]+src=|<link[^>]+stylesheet|https?:\/\//);
  });

  test('shows the local-only banner and the chat layout', () => {
    expect(CONSOLE_PAGE_HTML).toContain('Local console — binds to 127.0.0.1 only, no authentication');
    for (const id of ['user-select', 'channel-list', 'dm-list', 'messages', 'composer-input', 'thread-panel', 'requests-view', 'audit-view']) {
      expect(CONSOLE_PAGE_HTML).toContain(`id="${id}"`);
    }
    expect(CONSOLE_PAGE_SCRIPT).toContain("new EventSource(API + '/events')");
    expect(CONSOLE_PAGE_SCRIPT).toContain('window.confirm(');
  });

  test('the CSP allows exactly the inline script and style by hash', () => {
    const script = CONSOLE_PAGE_HTML.match(/<script>([\s\S]*)<\/script>/)![1]!;
    const style = CONSOLE_PAGE_HTML.match(/<style>([\s\S]*)<\/style>/)![1]!;
    const hash = (text: string) => createHash('sha256').update(text).digest('base64');
    expect(CONSOLE_PAGE_CSP).toContain(`script-src 'sha256-${hash(script)}'`);
    expect(CONSOLE_PAGE_CSP).toContain(`style-src 'sha256-${hash(style)}'`);
    expect(CONSOLE_PAGE_CSP).toContain("default-src 'none'");
    expect(CONSOLE_PAGE_CSP).toContain("connect-src 'self'");
  });
});
