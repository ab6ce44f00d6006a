// Behaviour for the takedown admin pages, kept out of the templates so that the
// Content-Security-Policy can refuse every inline script.
(function () {
  "use strict";

  // <select data-autosubmit>: choosing an option submits its form.
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches && target.matches("select[data-autosubmit]") && target.form) {
      target.form.submit();
    }
  });

  // <button class="copy-url" data-copy="…">: puts the full URL on the clipboard.
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button.copy-url") : null;
    if (!button) {
      return;
    }
    event.preventDefault();
    var text = button.dataset.copy || "";
    var done = function () {
      button.classList.add("copied");
      button.textContent = button.dataset.copied || button.textContent;
    };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(done, function () {});
    }
  });

  // A job's page follows its progress until it is done or failed.
  function followJob(box) {
    function poll() {
      fetch(box.dataset.statusUrl, {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (s) {
        document.getElementById("job-bar").value = s.percent;
        document.getElementById("job-count").textContent = s.done + " / " + s.total;
        document.getElementById("job-state").textContent = s.state;
        if (s.state === "done" || s.state === "failed") {
          window.location.reload();  // the page itself says what the job did, with its links
        } else {
          setTimeout(poll, 1000);
        }
      });
    }
    if (box.dataset.follow === "1") {
      setTimeout(poll, 1000);
    }
  }

  function ready() {
    var box = document.getElementById("job-progress");
    if (box) {
      followJob(box);
    }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
})();
