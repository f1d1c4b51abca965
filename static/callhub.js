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
