// callhub's agent tab: remembers the newest pop this tab has seen, so that when the
// websocket reconnects (a drop, a server restart, a reload) the server sends only what
// the tab missed. No inline script anywhere: the CSP allows only this file and htmx.
(function () {
  'use strict';
  var ramal = document.body.dataset.ramal;
  if (!ramal || !window.htmx) { return; }
  var key = 'callhub.seq.' + ramal;

  function stored() {
    try { return parseInt(sessionStorage.getItem(key) || '0', 10) || 0; } catch (e) { return 0; }
  }
  function remember(seq) {
    if (seq > stored()) {
      try { sessionStorage.setItem(key, String(seq)); } catch (e) { /* private mode */ }
    }
  }
  function seqOf(id, attr) {
    var el = document.getElementById(id);
    return el ? parseInt(el.getAttribute(attr) || '0', 10) || 0 : 0;
  }
  function setState(state) {
    var conn = document.getElementById('conn');
    if (conn) { conn.setAttribute('data-state', state); }
    document.body.setAttribute('data-ws', state);
  }

  htmx.createWebSocket = function (url) {
    var seen = stored();
    if (seen > 0) { url += (url.indexOf('?') < 0 ? '?' : '&') + 'after=' + seen; }
    return new WebSocket(url);
  };
  document.body.addEventListener('htmx:wsOpen', function () { setState('open'); });
  document.body.addEventListener('htmx:wsClose', function () { setState('closed'); });
  document.body.addEventListener('htmx:wsAfterMessage', function () {
    remember(Math.max(seqOf('pop-area', 'data-seq'), seqOf('recent-pops', 'data-max-seq')));
  });
})();

// Durations that count up on their own: time in state, waits, talk time and the wall
// board's data age. The server sends when each began (data-since, epoch seconds); only
// what changed travels, so the counting happens here.
(function () {
  'use strict';
  function duration(seconds) {
    var s = Math.max(0, Math.floor(seconds));
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    var mm = (h && m < 10 ? '0' : '') + m, ss = (r < 10 ? '0' : '') + r;
    return (h ? h + ':' : '') + mm + ':' + ss;
  }
  function tick() {
    var now = Date.now() / 1000;
    var els = document.querySelectorAll('[data-since]');
    for (var i = 0; i < els.length; i++) {
      var since = parseFloat(els[i].getAttribute('data-since'));
      if (!since) { continue; }
      els[i].textContent = duration(now - since);
      // A wait the supervisor gave thresholds to turns amber, then red (on its cell).
      var warn = parseFloat(els[i].getAttribute('data-warn') || '0');
      var bad = parseFloat(els[i].getAttribute('data-bad') || '0');
      if (warn || bad) {
        var cell = els[i].parentNode, waited = now - since;
        var lvl = bad && waited >= bad ? 'bad' : warn && waited >= warn ? 'warn' : 'ok';
        cell.classList.remove('lvl-ok', 'lvl-warn', 'lvl-bad');
        cell.classList.add('lvl-' + lvl);
      }
    }
    var meta = document.getElementById('board-meta');
    if (meta) {
      var updated = parseFloat(meta.getAttribute('data-updated') || '0');
      var interval = parseFloat(meta.getAttribute('data-interval') || '2');
      meta.classList.toggle('stale', !!updated && now - updated > 3 * interval + 3);
    }
  }
  document.addEventListener('DOMContentLoaded', function () {
    tick();
    setInterval(tick, 1000);
    document.body.addEventListener('htmx:wsAfterMessage', tick);
  });
})();

// The agent's screen never loses work to a call, and a call is never missed.
// - Drafts: what the agent types in a call's screen is kept per pop (sessionStorage) and
//   comes back when the agent returns to that call, or reloads the page.
// - A pop that arrives while the screen holds unsaved input does not replace it: it waits
//   in a banner ("Nova chamada: Maria da Silva — abrir"). Otherwise it takes the screen,
//   and focus moves to its first field.
// - A pop in a background tab raises a desktop notification (when the agent allowed them),
//   puts the caller in the title until the agent looks, and rings if the agent chose to.
(function () {
  'use strict';
  var body = document.body;
  var ramal = body.dataset.ramal;
  if (!ramal || !window.htmx) { return; }
  // The banner's words, translated by the page (data-new-call, data-open).
  var text = (document.getElementById('call-banner') || { dataset: {} }).dataset;
  var draftKey = function (seq) { return 'callhub.draft.' + ramal + '.' + seq; };
  var currentKey = 'callhub.current.' + ramal;
  var fromSocket = false;
  var pending = [];
  var unseen = [];
  var baseTitle = document.title;

  function get(key) { try { return sessionStorage.getItem(key); } catch (e) { return null; } }
  function put(key, value) {
    try {
      if (value === null) { sessionStorage.removeItem(key); } else { sessionStorage.setItem(key, value); }
    } catch (e) { /* private mode: drafts live as long as the screen */ }
  }
  function area() { return document.getElementById('pop-area'); }
  function shownSeq() { var a = area(); return a ? parseInt(a.getAttribute('data-seq') || '0', 10) || 0 : 0; }
  function fields(root) {
    return Array.prototype.filter.call(
      root.querySelectorAll('form input, form textarea, form select'),
      function (f) { return f.name && ['hidden', 'submit', 'button', 'password'].indexOf(f.type) < 0; });
  }
  function keyOf(f) { return (f.form.getAttribute('hx-post') || f.form.className) + '|' + f.name; }
  function changed(f) {
    if (f.tagName === 'SELECT') {
      if (f.multiple) {
        return Array.prototype.some.call(f.options, function (o) { return o.selected !== o.defaultSelected; });
      }
      // A single select with no option marked selected starts on its first one.
      var start = 0;
      for (var i = 0; i < f.options.length; i++) { if (f.options[i].defaultSelected) { start = i; break; } }
      return f.selectedIndex !== start;
    }
    if (f.type === 'checkbox' || f.type === 'radio') { return f.checked !== f.defaultChecked; }
    return f.value !== f.defaultValue;
  }
  function dirty() { var a = area(); return !!a && fields(a).some(changed); }

  function saveDraft() {
    var a = area(), seq = shownSeq();
    if (!a || !seq) { return; }
    var draft = {};
    fields(a).forEach(function (f) {
      if (changed(f)) { draft[keyOf(f)] = (f.type === 'checkbox' || f.type === 'radio') ? f.checked : f.value; }
    });
    put(draftKey(seq), Object.keys(draft).length ? JSON.stringify(draft) : null);
  }
  function restoreDraft() {
    var a = area(), seq = shownSeq(), raw = get(draftKey(seq));
    if (!a || !raw) { return; }
    var draft = {};
    try { draft = JSON.parse(raw); } catch (e) { return; }
    fields(a).forEach(function (f) {
      var k = keyOf(f);
      if (!(k in draft)) { return; }
      if (f.type === 'checkbox' || f.type === 'radio') { f.checked = !!draft[k]; } else { f.value = draft[k]; }
    });
  }
  function focusFirst(root) {
    // After an error, the field it names; else the screen's first field.
    var target = root.querySelector('[aria-invalid="true"]');
    if (!target) {
      var errorNote = root.querySelector('p.error');
      if (errorNote) {
        var label = errorNote.previousElementSibling;
        target = label && label.querySelector('input, select, textarea');
      }
    }
    if (!target) { target = fields(root).filter(function (f) { return !f.disabled && f.offsetParent !== null; })[0]; }
    if (target) { target.focus(); }
  }

  // -- the banner ---------------------------------------------------------------------
  function renderBanner() {
    var banner = document.getElementById('call-banner');
    if (!banner) { return; }
    banner.textContent = '';
    pending.forEach(function (seq) {
      var who = document.querySelector('#pop-item-' + seq + ' .who');
      var button = document.createElement('button');
      button.type = 'button';
      button.className = 'call-banner-open';
      button.setAttribute('data-seq', String(seq));
      button.textContent = (text.newCall || 'Nova chamada') + ': ' + (who ? who.textContent.trim() : '') +
        ' — ' + (text.open || 'abrir');
      banner.appendChild(button);
    });
    banner.hidden = pending.length === 0;
  }
  function openPop(seq) {
    // The banner lets go of the call once it is on screen (oobAfterSwap).
    htmx.ajax('GET', '/atendimento/pops/' + seq, { target: '#pop-area', swap: 'none' });
  }
  document.addEventListener('click', function (e) {
    var button = e.target.closest && e.target.closest('.call-banner-open');
    if (button) { openPop(parseInt(button.getAttribute('data-seq'), 10)); }
  });

  // -- the recent list: the latest calls, "more" for the rest, the current one marked ------
  var RECENT_KEPT = 50;
  function trimRecent() {
    var items = document.querySelectorAll('#recent-pops > li');
    for (var i = RECENT_KEPT; i < items.length; i++) { items[i].remove(); }
  }
  function markCurrent() {
    var seq = shownSeq();
    var items = document.querySelectorAll('#recent-pops > li');
    for (var i = 0; i < items.length; i++) {
      var current = items[i].id === 'pop-item-' + seq;
      items[i].classList.toggle('current', current);
      if (current) { items[i].setAttribute('aria-current', 'true'); } else { items[i].removeAttribute('aria-current'); }
    }
  }
  document.addEventListener('DOMContentLoaded', function () {
    var more = document.getElementById('recent-more');
    if (more) {
      more.addEventListener('click', function () {
        var list = document.getElementById('recent-pops');
        list.classList.toggle('all');
        more.textContent = list.classList.contains('all') ? more.dataset.less || more.textContent : more.dataset.more || more.textContent;
      });
    }
    // The USCall controls stay as the agent left them (open or collapsed).
    var controls = document.getElementById('uscall-controls');
    if (controls) {
      if (localStorage.getItem('callhub.uscall-controls') === 'closed') { controls.open = false; }
      controls.addEventListener('toggle', function () {
        try { localStorage.setItem('callhub.uscall-controls', controls.open ? 'open' : 'closed'); } catch (e) { /* none */ }
      });
    }
  });

  // -- pops arriving ------------------------------------------------------------------
  body.addEventListener('htmx:wsBeforeMessage', function () { fromSocket = true; });
  body.addEventListener('htmx:wsAfterMessage', function () {
    fromSocket = false;
    trimRecent();
    markCurrent();
    renderBanner();
    if (unseen.length) { alertAgent(); }
  });
  body.addEventListener('htmx:oobBeforeSwap', function (e) {
    var incoming = e.detail.fragment && e.detail.fragment.firstElementChild;
    if (!incoming || incoming.id !== 'pop-area') { return; }
    var seq = parseInt(incoming.getAttribute('data-seq') || '0', 10) || 0;
    if (seq === shownSeq()) { return; }
    if (fromSocket && seq > shownSeq()) { unseen.push(seq); }
    if (fromSocket && seq > shownSeq() && dirty()) {
      // Unsaved input on screen: the call waits in the banner, the work stays.
      e.detail.shouldSwap = false;
      if (pending.indexOf(seq) < 0) { pending.unshift(seq); }
      return;
    }
    saveDraft();  // the screen leaves: what it holds is kept (typing keeps it too)
  });
  body.addEventListener('htmx:oobAfterSwap', function (e) {
    markCurrent();
    var a = area(), id = e.detail.target && e.detail.target.id;
    if (!a || !id) { return; }
    if (id === 'pop-area') {
      // A call took the screen: its draft back, focus on its first field.
      var seq = shownSeq();
      if (seq) { put(currentKey, String(seq)); }
      pending = pending.filter(function (s) { return s !== seq; });
      renderBanner();
      restoreDraft();
      focusFirst(a);
      return;
    }
    // The screen answered a form (saved, or an error): focus is not left on <body>.
    var swapped = document.getElementById(id);
    var lost = !document.activeElement || document.activeElement === body || !document.contains(document.activeElement);
    if (swapped && a.contains(swapped) && lost) { focusFirst(swapped); }
  });
  body.addEventListener('input', function (e) { if (area() && area().contains(e.target)) { saveDraft(); } });
  var ringBox = document.getElementById('ring');
  if (ringBox) {
    ringBox.addEventListener('change', function () { body.setAttribute('data-ring', ringBox.checked ? '1' : '0'); });
  }
  body.addEventListener('change', function (e) { if (area() && area().contains(e.target)) { saveDraft(); } });
  // A form of the screen saved: its draft is done with.
  body.addEventListener('htmx:afterRequest', function (e) {
    var form = e.detail.elt;
    if (!e.detail.successful || !form || form.tagName !== 'FORM' || !area() || !area().contains(form)) { return; }
    put(draftKey(shownSeq()), null);
  });
  // A reload: the call that was on screen comes back, drafts included.
  document.addEventListener('DOMContentLoaded', function () {
    var current = parseInt(get(currentKey) || '0', 10) || 0;
    if (current && !shownSeq()) { htmx.ajax('GET', '/atendimento/pops/' + current, { target: '#pop-area', swap: 'none' }); }
  });

  // -- a background tab ---------------------------------------------------------------
  function alertAgent() {
    var seqs = unseen;
    unseen = [];
    if (!document.hidden) { return; }
    var seq = seqs[seqs.length - 1];
    var who = document.querySelector('#pop-item-' + seq + ' .who');
    var name = who ? who.textContent.trim() : '';
    waiting += seqs.length;
    document.title = '(' + waiting + ') ' + (name || text.newCall || '') + ' · callhub';
    if (window.Notification && Notification.permission === 'granted') {
      var note = new Notification(text.newCall || 'Nova chamada', { body: name, tag: 'callhub-' + ramal });
      note.onclick = function () {
        window.focus();
        if (pending.indexOf(seq) >= 0) { openPop(seq); }
        note.close();
      };
    }
    if (body.getAttribute('data-ring') === '1') { ring(); }
  }
  var waiting = 0;
  document.addEventListener('visibilitychange', function () {
    if (!document.hidden) { waiting = 0; document.title = baseTitle; }
  });
  var audio = null;
  function ring() {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      [0, 0.35].forEach(function (at) {
        var osc = audio.createOscillator(), gain = audio.createGain();
        osc.frequency.value = 880;
        gain.gain.setValueAtTime(0.2, audio.currentTime + at);
        gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + at + 0.3);
        osc.connect(gain); gain.connect(audio.destination);
        osc.start(audio.currentTime + at); osc.stop(audio.currentTime + at + 0.3);
      });
    } catch (e) { /* no audio here */ }
  }
  document.addEventListener('DOMContentLoaded', function () {
    var offer = document.getElementById('notify-enable');
    if (offer && window.Notification && Notification.permission === 'default') {
      offer.hidden = false;
      offer.addEventListener('click', function () {
        Notification.requestPermission().then(function () { offer.hidden = true; });
      });
    }
    // Sound needs a gesture first: the agent's first click on the page allows it.
    document.addEventListener('click', function unlock() {
      if (body.getAttribute('data-ring') === '1' && !audio) {
        try { audio = new (window.AudioContext || window.webkitAudioContext)(); } catch (e) { /* none */ }
      }
      document.removeEventListener('click', unlock);
    });
  });
})();
