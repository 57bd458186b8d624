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
  document.addEventListener("DOMContentLoaded", function () { wireCopy(document); });
  document.addEventListener("htmx:afterSettle", function () { wireCopy(document); });
})();
