// The triage queue on a phone: the filters start closed above the cards (one tap opens them),
// so the first screen shows tickets. On wider screens they stay open beside the list.
(function () {
  "use strict";
  var filters = document.getElementById("cx-queue-filters");
  if (filters && window.matchMedia("(max-width: 767px)").matches) {
    filters.open = false;
  }
})();
