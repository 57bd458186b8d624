// Progressive enhancements only: every page works without this file.
(function () {
  "use strict";
  function wireCopy(root) {
    var copy = root.querySelector("#copy-link");
    var share = root.querySelector("#share-link");
    // Wire each link once: every settled swap (the result, the metric meanings) calls this.
    if (!copy || !share || !navigator.clipboard || copy.dataset.wired) { return; }
    copy.dataset.wired = "1";
    copy.hidden = false;
    copy.addEventListener("click", function (ev) {
      ev.preventDefault();
      navigator.clipboard.writeText(share.href).then(function () {
        copy.textContent = "Copied";
      }, function () {
        copy.textContent = "Copy failed: use the link";
      });
    });
  }
  // A vector in the fragment (/calculator#JBG:1.0/...) loads like ?v=... (fragments
  // never reach the server, so the page asks for it).
  function loadFragment() {
    var h = decodeURIComponent(window.location.hash.slice(1));
    if (window.location.pathname === "/calculator" && /^JBG:/.test(h)) {
      window.location.replace("/calculator?v=" + encodeURIComponent(h));
    }
  }
  loadFragment();
  window.addEventListener("hashchange", loadFragment);
  document.addEventListener("DOMContentLoaded", function () { wireCopy(document); });
  document.addEventListener("htmx:afterSettle", function () { wireCopy(document); });
})();
