/**
 * The embeddable chat: `<script src="https://baton.example/widget.js" data-title="Acme support" async></script>`.
 * It adds a launcher button and an iframe of /chat/ from the Baton server that served this script. The
 * iframe keeps the chat's styles and its customer token away from the host page; being a plain script with
 * no imports, it runs from a classic <script> tag.
 */
(() => {
  const script = document.currentScript as HTMLScriptElement | null;
  const w = window as unknown as { __batonWidget?: boolean };
  if (w.__batonWidget) return;
  w.__batonWidget = true;

  const origin = script?.src ? new URL(script.src).origin : location.origin;
  const data = script?.dataset ?? {};
  const params = new URLSearchParams({ embed: '1' });
  for (const key of ['industry', 'name', 'title'] as const) {
    const value = data[key];
    if (value) params.set(key, value);
  }
  const color = data.color ?? '#2f55d4';
  const label = data.label ?? 'Chat with us';

  const host = document.createElement('div');
  host.id = 'baton-widget';
  const shadow = host.attachShadow({ mode: 'open' });
  shadow.innerHTML = `
    <style>
      :host { all: initial; }
      .launcher { position: fixed; right: 20px; bottom: 20px; z-index: 2147483000; display: flex; align-items: center;
        gap: 8px; padding: 12px 18px; border: none; border-radius: 999px; background: ${color}; color: #fff;
        font: 600 15px/1 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; cursor: pointer;
        box-shadow: 0 8px 24px rgba(16, 24, 40, 0.25); }
      .launcher:focus-visible { outline: 3px solid rgba(47, 85, 212, 0.45); outline-offset: 2px; }
      .panel { position: fixed; right: 20px; bottom: 84px; z-index: 2147483000; width: 380px; height: min(620px, calc(100vh - 110px));
        border-radius: 14px; overflow: hidden; background: #fff; box-shadow: 0 16px 48px rgba(16, 24, 40, 0.28); }
      .panel[hidden] { display: none; }
      iframe { width: 100%; height: 100%; border: 0; display: block; }
      @media (max-width: 600px) {
        .panel { inset: 0; width: 100%; height: 100%; border-radius: 0; }
        .open .launcher { display: none; }
      }
    </style>
    <div class="root">
      <div class="panel" role="dialog" aria-label="${label}" hidden></div>
      <button class="launcher" type="button" aria-expanded="false">
        <svg width="18" height="18" viewBox="0 0 24 24" aria-hidden="true" fill="currentColor">
          <path d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z"/></svg>
        <span>${label}</span>
      </button>
    </div>`;

  const root = shadow.querySelector('.root') as HTMLDivElement;
  const panel = shadow.querySelector('.panel') as HTMLDivElement;
  const launcher = shadow.querySelector('.launcher') as HTMLButtonElement;
  const launcherText = launcher.querySelector('span') as HTMLSpanElement;
  let frame: HTMLIFrameElement | null = null;

  const setOpen = (open: boolean) => {
    if (open && !frame) {
      frame = document.createElement('iframe');
      frame.title = label;
      frame.src = `${origin}/chat/?${params.toString()}`;
      frame.allow = 'clipboard-write';
      panel.append(frame);
    }
    panel.hidden = !open;
    root.classList.toggle('open', open);
    launcher.setAttribute('aria-expanded', String(open));
    launcherText.textContent = open ? 'Close' : label;
    if (open) frame?.focus();
    try {
      sessionStorage.setItem('baton.widget.open', open ? '1' : '0');
    } catch {
      // Storage can be blocked on the host page; the widget still works, it just starts closed.
    }
  };

  launcher.addEventListener('click', () => setOpen(panel.hidden));
  window.addEventListener('message', (event) => {
    if (event.origin !== origin) return;
    const message = event.data as { source?: string; type?: string } | null;
    if (message?.source === 'baton' && message.type === 'close') {
      setOpen(false);
      launcher.focus();
    }
  });

  const mount = () => {
    document.body.append(host);
    let wasOpen = false;
    try {
      wasOpen = sessionStorage.getItem('baton.widget.open') === '1';
    } catch {
      wasOpen = false;
    }
    if (wasOpen || data.open === 'true') setOpen(true);
  };
  if (document.body) mount();
  else document.addEventListener('DOMContentLoaded', mount);
})();
