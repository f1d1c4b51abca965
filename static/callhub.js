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
