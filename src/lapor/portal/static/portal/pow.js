/* Lapor proof-of-work (see lapor.portal.abuse). After the page has loaded, finds for each form's signed
   challenge a nonce such that SHA-256(challenge + nonce) starts with the given number of zero bits, and
   puts it in the form's hidden "pow_nonce" field. It never blocks or delays sending: a form sent before
   the nonce is found, or without JavaScript, is still accepted (under a stricter rate limit).
   Plain ES5 and no dependencies, so that old phone browsers parse it. */
(function () {
  "use strict";
  if (window.laporPow) { return; }
  var subtle = window.crypto && window.crypto.subtle;
  // WebCrypto exists only in secure contexts (HTTPS or localhost); without it forms go unsolved.
  if (!subtle || !window.TextEncoder || !window.Promise) { window.laporPow = { start: function () {} }; return; }
  var encoder = new TextEncoder();
  // Digests started together, then a pause for the page: each batch takes a few tens of milliseconds
  // on a cheap phone, so typing and scrolling stay smooth while the work goes on.
  var BATCH = 128;
  var queue = Promise.resolve();

  function hasLeadingZeroBits(buffer, bits) {
    var bytes = new Uint8Array(buffer);
    var whole = bits >> 3;
    var rest = bits & 7;
    for (var i = 0; i < whole; i++) { if (bytes[i] !== 0) { return false; } }
    return rest === 0 || (bytes[whole] >> (8 - rest)) === 0;
  }

  function solve(challengeInput, nonceInput) {
    var challenge = challengeInput.value;
    var difficulty = parseInt(challengeInput.getAttribute("data-pow-difficulty"), 10);
    if (!challenge || !(difficulty > 0 && difficulty <= 32)) { return Promise.resolve(); }
    var next = 0;
    return new Promise(function (resolve) {
      function batch() {
        var first = next;
        var digests = [];
        next += BATCH;
        for (var nonce = first; nonce < next; nonce++) {
          digests.push(subtle.digest("SHA-256", encoder.encode(challenge + nonce)));
        }
        Promise.all(digests).then(function (results) {
          for (var i = 0; i < results.length; i++) {
            if (hasLeadingZeroBits(results[i], difficulty)) {
              nonceInput.value = String(first + i);
              challengeInput.setAttribute("data-pow-state", "solved");
              resolve();
              return;
            }
          }
          setTimeout(batch, 0);
        }, function () { resolve(); });
      }
      batch();
    });
  }

  function start() {
    var challenges = document.querySelectorAll('input[name="pow_challenge"][data-pow-difficulty]');
    Array.prototype.forEach.call(challenges, function (challengeInput) {
      var form = challengeInput.form;
      var nonceInput = form && form.querySelector('input[name="pow_nonce"]');
      if (!nonceInput || nonceInput.value || challengeInput.getAttribute("data-pow-state")) { return; }
      challengeInput.setAttribute("data-pow-state", "solving");
      queue = queue.then(function () { return solve(challengeInput, nonceInput); });
    });
  }

  window.laporPow = { start: start };
  // Forms that htmx swaps in later get their challenge solved too.
  document.addEventListener("htmx:load", function () { start(); });
  if (document.readyState === "complete") { setTimeout(start, 0); }
  else { window.addEventListener("load", function () { setTimeout(start, 0); }); }
}());
