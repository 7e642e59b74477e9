// One click in the email is one answer: when the page opens with a score preselected from the
// email's link, post it. Only a real browser showing the page does this; the GET itself never
// records anything, so mail scanners that fetch links without running scripts change nothing.
(function () {
  "use strict";
  function submitPreselected() {
    var form = document.getElementById("score-form");
    if (!form || form.getAttribute("data-autosubmit") !== "1") return;
    if (!form.querySelector("input[name=score]:checked")) return;
    if (document.visibilityState && document.visibilityState !== "visible") return;
    form.setAttribute("data-autosubmit", "done");
    var saving = document.getElementById("saving");
    if (saving) saving.hidden = false;
    if (form.requestSubmit) form.requestSubmit(); else form.submit();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", submitPreselected);
  } else {
    submitPreselected();
  }
  document.addEventListener("visibilitychange", submitPreselected);
})();
