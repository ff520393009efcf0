// The subscribe box of a feed's page (feed.html): a button that copies the feed's address.
// Plain script, no framework. Without it the button stays hidden and the address stays a
// read-only field to select and copy by hand.
(function () {
  "use strict";
  var field = document.getElementById("feed-address");
  var button = document.getElementById("copy-address");
  var status = document.getElementById("copy-status");
  if (!field || !button || !status) {
    return;
  }
  // Opened at the feed's RSS or JSON Feed address: that is the address to copy.
  var here = window.location.href.split("#")[0];
  Array.prototype.forEach.call(document.querySelectorAll("a.format"), function (link) {
    if (link.href === here) {
      field.defaultValue = link.href;
    }
  });
  field.addEventListener("focus", function () {
    field.select();
  });
  function say(text) {
    status.textContent = text;
  }
  // execCommand is deprecated, but it is what copies where navigator.clipboard is missing
  // (a page served over plain http from another host is not a secure context).
  function copySelected() {
    field.focus();
    field.select();
    var copied = false;
    try {
      copied = document.execCommand("copy");
    } catch (error) {
      copied = false;
    }
    say(copied ? button.dataset.copied : button.dataset.failed);
  }
  button.addEventListener("click", function () {
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(function () {
        say(button.dataset.copied);
      }, copySelected);
    } else {
      copySelected();
    }
  });
  button.hidden = false;
})();
