/* Hands the agent token to the billingdesk panel frame that opened this popup, then closes. */
(function () {
  "use strict";
  var message = JSON.parse(document.getElementById("bd-agent").textContent);
  if (window.opener) {
    window.opener.postMessage(message, window.location.origin);  // our own frames only
    window.setTimeout(function () { window.close(); }, 300);
  }
})();
