// 类似建议: while a deputy writes, ask the server for similar earlier suggestions.
(function () {
  "use strict";
  var panel = document.getElementById("similar-cases");
  var form = document.getElementById("draft-form");
  if (!panel || !form) return;
  var title = form.querySelector("[name=title]");
  var content = form.querySelector("[name=content]");
  var timer = null;
  var last = "";
  function refresh() {
    var text = (title ? title.value : "") + "\n" + (content ? content.value : "");
    if (text.trim().length < 8 || text === last) return;
    last = text;
    var params = new URLSearchParams({
      title: title ? title.value : "",
      content: content ? content.value.slice(0, 5000) : "",
      exclude: panel.dataset.exclude || "",
    });
    fetch(panel.dataset.url + "?" + params.toString(), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : ""; })
      .then(function (html) {
        if (!html) return;
        var old = panel.querySelector(".sugg-similar");
        var holder = document.createElement("div");
        holder.innerHTML = html;
        var fresh = holder.querySelector(".sugg-similar");
        if (old && fresh) old.replaceWith(fresh);
        else if (fresh) panel.appendChild(fresh);
      })
      .catch(function () {});
  }
  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(refresh, 600);
  }
  [title, content].forEach(function (el) {
    if (el) el.addEventListener("input", schedule);
  });
})();
