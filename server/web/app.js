// Expedition web door: a terminal in the browser, joined to the classroom
// over one WebSocket (/ws) with binary frames both ways.
//
// Client → server frames start with a kind byte:
//   0x01 HELLO   once, first: UTF-8 JSON {"key","cols","rows"[,"token"]}
//   0x00 INPUT   the bytes the user typed
//   0x02 RESIZE  cols, rows as uint16 big-endian
// Server → client binary frames are raw terminal output.
//
// Loaded as a plain script after vendor/xterm.js (window.Terminal) and
// vendor/addon-fit.js (window.FitAddon.FitAddon); the page's CSP forbids
// inline script, so every handler is attached here.
'use strict';

(() => {
  // The font's largest size, and the smallest it shrinks to so that the
  // 80×24 cells the tour needs fit a small screen.
  const FONT_MAX = 15;
  const FONT_MIN = 7;
  const MIN_COLS = 80;
  const MIN_ROWS = 24;

  const KIND_INPUT = 0x00;
  const KIND_HELLO = 0x01;
  const KIND_RESIZE = 0x02;

  const KEY_ITEM = 'expedition-key';     // localStorage: the student's identity
  const TOKEN_ITEM = 'expedition-token'; // sessionStorage: instructor token, this tab only
  const SR_ITEM = 'expedition-sr';       // localStorage: screen reader mode "1"/"0"

  const RESIZE_DEBOUNCE_MS = 150;
  const CONNECT_TIMEOUT_MS = 15000; // a filtered network can hang a handshake for minutes
  const STABLE_MS = 5000;           // a session open this long resets the backoff
  const BACKOFF_CAP_S = 30;

  const $ = (id) => document.getElementById(id);
  const body = document.body;
  const statusEl = $('status');
  const waitEl = $('wait');
  const rejoinBtn = $('rejoin');
  const srBox = $('sr');
  const keysToggle = $('keys-toggle');
  const keysBar = $('keys');
  const instructorEl = $('instructor');
  const tokenForm = $('token-form');
  const tokenInput = $('token');
  const instructorOn = $('instructor-on');
  const leaveLink = $('leave');
  const termEl = $('terminal');

  // ---- Storage that may be missing (private mode, disabled cookies) ------
  // Touching window.localStorage itself can throw, so every access is
  // guarded; without storage the value lives in memory for this tab.

  const memory = new Map();

  function storageGet(kind, item) {
    try {
      const v = window[kind].getItem(item);
      if (v !== null) return v;
    } catch (_) { /* no storage: fall back to memory */ }
    return memory.has(kind + item) ? memory.get(kind + item) : null;
  }

  function storageSet(kind, item, value) {
    memory.set(kind + item, value);
    try { window[kind].setItem(item, value); } catch (_) { /* memory only */ }
  }

  function storageRemove(kind, item) {
    memory.delete(kind + item);
    try { window[kind].removeItem(item); } catch (_) { /* memory only */ }
  }

  // ---- Identity -----------------------------------------------------------
  // 32 random bytes, base64url without padding (43 chars). The same key on
  // every connect lets the server give a reloaded or reconnected tab back
  // its student's name and place.

  function base64url(bytes) {
    let bin = '';
    for (const b of bytes) bin += String.fromCharCode(b);
    return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  function studentKey() {
    const stored = storageGet('localStorage', KEY_ITEM);
    if (stored && /^[A-Za-z0-9_-]{43}$/.test(stored)) return stored;
    const bytes = new Uint8Array(32);
    crypto.getRandomValues(bytes);
    const key = base64url(bytes);
    storageSet('localStorage', KEY_ITEM, key);
    return key;
  }

  const key = studentKey();

  // ---- Instructor mode ----------------------------------------------------

  function urlAsksInstructor() {
    return location.hash === '#instructor' ||
      new URLSearchParams(location.search).has('instructor');
  }

  let instructor = urlAsksInstructor();

  function token() {
    return instructor ? storageGet('sessionStorage', TOKEN_ITEM) : null;
  }

  // The form shows while there is no token to join with (or the last one
  // was refused); once joined, only "Instructor mode" and the leave link.
  function showInstructor(askToken) {
    instructorEl.hidden = !instructor;
    tokenForm.hidden = !askToken;
    instructorOn.hidden = askToken;
    if (askToken) tokenInput.value = '';
  }

  // ---- Terminal -----------------------------------------------------------

  const srOn = storageGet('localStorage', SR_ITEM) === '1';
  srBox.checked = srOn;

  const term = new window.Terminal({
    fontFamily: 'ui-monospace, "Cascadia Mono", "SF Mono", Menlo, Consolas, "DejaVu Sans Mono", "Liberation Mono", "Noto Sans Mono", monospace',
    fontSize: FONT_MAX,
    cursorBlink: true,
    screenReaderMode: srOn,
    // Only the surface colours; the 16 ANSI colours stay xterm's defaults,
    // which the lessons were drawn against.
    theme: {
      background: '#1e1e2e',
      foreground: '#cdd6f4',
      cursor: '#f5e0dc',
      cursorAccent: '#1e1e2e',
      selectionBackground: '#585b70',
    },
  });
  const fitter = new window.FitAddon.FitAddon();
  term.loadAddon(fitter);
  term.open(termEl);

  // The tour needs 80×24. On a small screen (a phone, a split window) the
  // font shrinks, down to FONT_MIN, until that many cells fit; on a larger
  // one it grows back. Below FONT_MIN the session says the terminal is too
  // small, and a phone turned sideways fits.
  const fit = {
    fit() {
      let size = FONT_MAX;
      for (; size > FONT_MIN; size--) {
        if (term.options.fontSize !== size) term.options.fontSize = size;
        const d = fitter.proposeDimensions();
        if (!d || (d.cols >= MIN_COLS && d.rows >= MIN_ROWS)) break;
      }
      if (term.options.fontSize !== size) term.options.fontSize = size;
      fitter.fit();
    },
  };
  fit.fit();

  srBox.addEventListener('change', () => {
    term.options.screenReaderMode = srBox.checked;
    storageSet('localStorage', SR_ITEM, srBox.checked ? '1' : '0');
  });

  // ---- Connection -----------------------------------------------------------
  // state: 'connecting' | 'open' | 'waiting' (backoff before a retry) |
  //        'ended' (refused for good or quit: only the user rejoins) |
  //        'token' (instructor mode, waiting for a token to be typed)

  const encoder = new TextEncoder();
  let ws = null;
  let state = '';
  let attempt = 0;        // failed attempts since the last stable session
  let everOpened = false; // the first connect says "Connecting", later ones "Reconnecting"
  let retryTimer = 0;
  let tickTimer = 0;
  let connectTimer = 0;
  let lastSize = null;    // {cols, rows} last told to the server

  function setState(next, text, waitUntil) {
    state = next;
    body.dataset.state = next;
    // Only the words go to the live region; the ticking countdown sits
    // beside it, hidden from screen readers so it is not read every second.
    if (statusEl.textContent !== text) statusEl.textContent = text;
    clearInterval(tickTimer);
    tickTimer = 0;
    waitEl.textContent = '';
    if (waitUntil) {
      const tick = () => {
        const s = Math.max(1, Math.ceil((waitUntil - Date.now()) / 1000));
        waitEl.textContent = ` in ${s} s…`;
      };
      tick();
      tickTimer = setInterval(tick, 250);
    }
    rejoinBtn.hidden = !(next === 'ended' || next === 'waiting');
    rejoinBtn.textContent = next === 'ended' ? 'Join again' : 'Retry now';
  }

  function send(kind, payload) {
    if (!ws || ws.readyState !== WebSocket.OPEN) return; // typed while down: dropped
    const frame = new Uint8Array(1 + (payload ? payload.length : 0));
    frame[0] = kind;
    if (payload) frame.set(payload, 1);
    ws.send(frame);
  }

  function sendResize(cols, rows) {
    const p = new Uint8Array(4);
    const view = new DataView(p.buffer);
    view.setUint16(0, cols); // DataView is big-endian unless told otherwise
    view.setUint16(2, rows);
    send(KIND_RESIZE, p);
    lastSize = { cols, rows };
  }

  function connect() {
    clearTimeout(retryTimer);
    retryTimer = 0;
    if (ws) return; // already connecting or open
    if (instructor && !token()) {
      setState('token', 'Type the instructor token to join');
      showInstructor(true);
      return;
    }
    setState('connecting', everOpened ? 'Reconnecting…' : 'Connecting…');
    fit.fit(); // the HELLO carries the size, so measure now

    let sock;
    try {
      sock = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws');
    } catch (_) {
      lost(1006); // cannot happen for an http(s) page's own host; treated as a lost connection
      return;
    }
    sock.binaryType = 'arraybuffer';
    ws = sock;
    let openedAt = 0;

    // A handshake that neither opens nor fails (a filter swallowing it) is
    // given up so the backoff can try again.
    connectTimer = setTimeout(() => { if (ws === sock && !openedAt) sock.close(); }, CONNECT_TIMEOUT_MS);

    sock.addEventListener('open', () => {
      if (ws !== sock) return;
      clearTimeout(connectTimer);
      openedAt = Date.now();
      everOpened = true;
      // Clear what the previous session left before the new one draws its
      // first frame; nothing from this socket has been written yet.
      term.reset();
      fit.fit();
      const hello = { key, cols: term.cols, rows: term.rows };
      const tok = token();
      if (tok) hello.token = tok;
      send(KIND_HELLO, encoder.encode(JSON.stringify(hello)));
      lastSize = { cols: term.cols, rows: term.rows };
      setState('open', instructor ? 'Connected — instructor mode' : 'Connected');
      if (instructor) showInstructor(false);
    });

    sock.addEventListener('message', (ev) => {
      if (ws !== sock) return;
      // Uint8Array, not per-frame TextDecoder: xterm keeps a UTF-8
      // sequence split across two frames intact.
      if (ev.data instanceof ArrayBuffer) term.write(new Uint8Array(ev.data));
      // Text frames are not part of the protocol: ignored.
    });

    sock.addEventListener('close', (ev) => {
      if (ws !== sock) return;
      clearTimeout(connectTimer);
      ws = null;
      if (openedAt && Date.now() - openedAt >= STABLE_MS) attempt = 0;
      closed(ev.code);
    });
    // 'error' is always followed by 'close', which does the work.
  }

  function closed(code) {
    if (code === 1000 || (code >= 4000 && code <= 4099)) {
      // Quit, or refused for good (removed, banned, bad token, bad request):
      // retrying would be refused again. The server wrote the reason on the
      // terminal, which stays as it is until the user rejoins.
      setState('ended', 'Session ended — press Enter or reload to join again');
      // A refused instructor may have mistyped the token: offer the form.
      if (instructor && code !== 1000) showInstructor(true);
      return;
    }
    lost(code);
  }

  // Network loss, server errors and 4100–4199 (class full, too many from
  // your network, restarting): retry after 1, 2, 4 … 30 s, ±20 % jitter.
  function lost(code) {
    const delay = Math.min(BACKOFF_CAP_S, 2 ** attempt) * 1000 * (0.8 + Math.random() * 0.4);
    attempt++;
    const retryAt = Date.now() + delay;
    retryTimer = setTimeout(connect, delay);
    let text = 'Connection lost — reconnecting';
    if (code >= 4100 && code <= 4199) text = 'Server busy — trying again';
    else if (!everOpened) text = 'Cannot reach the class server — trying again';
    setState('waiting', text, retryAt);
  }

  // Rejoining is always the user's choice after an ended session; a retry
  // that is only waiting can be hurried.
  function rejoin() {
    if (state === 'ended') attempt = 0;
    if (state === 'ended' || state === 'waiting') connect();
  }

  // Back online, or woken up: no point waiting out a long backoff.
  function retrySoon() {
    if (state === 'waiting') connect();
  }
  window.addEventListener('online', retrySoon);
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') retrySoon();
  });

  rejoinBtn.addEventListener('click', () => { rejoin(); term.focus(); });

  // ---- Input ----------------------------------------------------------------

  // Everything the user types goes through here (keyboard and key bar):
  // after an ended session, Enter joins again instead.
  function typed(bytes) {
    if (state === 'ended') {
      if (bytes.includes(0x0d)) rejoin();
      return;
    }
    send(KIND_INPUT, bytes);
  }

  term.onData((s) => typed(encoder.encode(s)));
  // onBinary carries raw bytes as a string of char codes 0–255 (some mouse
  // reports): one byte per char, not UTF-8.
  term.onBinary((s) => {
    const b = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i) & 0xff;
    typed(b);
  });

  // ---- Resizing ---------------------------------------------------------------
  // Window resizes and layout changes (key bar shown, instructor form, phone
  // keyboard) both change the terminal's box; fit and tell the server once
  // things settle, and only if the size really changed.

  let resizeTimer = 0;
  function scheduleResize() {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => {
      fit.fit();
      if (state !== 'open') return; // the next HELLO carries the size
      if (lastSize && lastSize.cols === term.cols && lastSize.rows === term.rows) return;
      sendResize(term.cols, term.rows);
    }, RESIZE_DEBOUNCE_MS);
  }
  window.addEventListener('resize', scheduleResize);
  if ('ResizeObserver' in window) new ResizeObserver(scheduleResize).observe(termEl);

  // ---- Touch key bar ------------------------------------------------------------

  const KEYS = {
    left: '\x1b[D', right: '\x1b[C', up: '\x1b[A', down: '\x1b[B',
    tab: '\t', enter: '\r', esc: '\x1b',
    f: 'f', h: 'h', n: 'n', p: 'p', t: 't', '?': '?', q: 'q',
  };

  const coarse = window.matchMedia('(pointer: coarse)');
  let keysChosen = false; // once the user toggles, the pointer type no longer decides

  function showKeys(on) {
    keysBar.hidden = !on;
    keysToggle.setAttribute('aria-pressed', String(on));
  }
  showKeys(coarse.matches);
  coarse.addEventListener('change', () => { if (!keysChosen) showKeys(coarse.matches); });
  keysToggle.addEventListener('click', () => {
    keysChosen = true;
    showKeys(keysBar.hidden);
  });

  // Whether the terminal had focus when the tap began: on a phone, focus
  // means the on-screen keyboard is up.
  let termHadFocus = false;
  keysBar.addEventListener('pointerdown', () => {
    termHadFocus = document.activeElement === term.textarea;
  });
  // Cancelling mousedown keeps focus in the terminal, so a tap on a key
  // does not close the phone keyboard.
  keysBar.addEventListener('mousedown', (ev) => { if (ev.target.closest('button')) ev.preventDefault(); });
  keysBar.addEventListener('click', (ev) => {
    const btn = ev.target.closest('button[data-key]');
    if (!btn) return;
    const seq = KEYS[btn.dataset.key];
    if (seq !== undefined) typed(encoder.encode(seq));
    // Give focus back to the terminal, but on a touch screen only if it had
    // it: focusing would pop the keyboard up over the screen being read.
    if (termHadFocus || !coarse.matches) term.focus();
    termHadFocus = false;
  });

  // ---- Instructor form -------------------------------------------------------------

  tokenForm.addEventListener('submit', (ev) => {
    ev.preventDefault(); // never navigate (CSP form-action 'none' too)
    const tok = tokenInput.value.trim();
    if (!tok) return;
    storageSet('sessionStorage', TOKEN_ITEM, tok);
    tokenInput.value = '';
    showInstructor(false);
    reconnectNow();
    term.focus();
  });

  leaveLink.addEventListener('click', (ev) => {
    ev.preventDefault();
    storageRemove('sessionStorage', TOKEN_ITEM);
    instructor = false;
    // Drop #instructor / ?instructor so a reload stays a student.
    const url = new URL(location.href);
    url.searchParams.delete('instructor');
    if (url.hash === '#instructor') url.hash = '';
    history.replaceState(null, '', url.pathname + url.search);
    showInstructor(false);
    reconnectNow();
    term.focus();
  });

  // Typing #instructor into the address bar of an open page.
  window.addEventListener('hashchange', () => {
    if (instructor || !urlAsksInstructor()) return;
    instructor = true;
    showInstructor(!token());
    if (!token()) tokenInput.focus();
  });

  // Join afresh with the current identity (token given or dropped): the old
  // socket's handlers are detached first so its close starts no retry.
  function reconnectNow() {
    if (ws) {
      const old = ws;
      ws = null;
      clearTimeout(connectTimer);
      old.close(1000);
    }
    attempt = 0;
    connect();
  }

  // ---- Start ---------------------------------------------------------------------

  showInstructor(instructor && !token());
  connect();
  if (state === 'token') tokenInput.focus();
  else term.focus();
})();
