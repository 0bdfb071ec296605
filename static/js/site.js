// Site-wide behaviour (no third-party code, nothing loaded from outside).

// Suggestions while typing: every <input data-suggest-url> (the header search box and
// the box on /search/) gets a keyboard-accessible list of matching titles. The server
// returns only what the user may see: {"suggestions": [{"title", "url", "type"}]}.
(function () {
  "use strict";

  var DELAY_MS = 200;
  var MIN_CHARS = 1;
  var STYLE =
    ".suggest-list{position:absolute;top:100%;left:0;right:0;z-index:50;margin:2px 0 0;padding:0;" +
    "list-style:none;background:#fff;color:#222;border:1px solid #c9ced6;border-radius:3px;" +
    "box-shadow:0 4px 12px rgba(0,0,0,.15);max-height:22rem;overflow-y:auto}" +
    ".suggest-list[hidden]{display:none}" +
    ".suggest-option{display:flex;justify-content:space-between;gap:.8rem;padding:.35rem .6rem;cursor:pointer}" +
    ".suggest-option[aria-selected=true],.suggest-option:hover{background:#fdecea}" +
    ".suggest-option__type{color:#6b7280;font-size:.8rem;white-space:nowrap}" +
    ".suggest-option--all{border-top:1px solid #e5e7eb;color:#7a0000}" +
    ".suggest-status{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}";

  function addStyle() {
    if (document.getElementById("suggest-style")) return;
    var style = document.createElement("style");
    style.id = "suggest-style";
    style.textContent = STYLE;
    document.head.appendChild(style);
  }

  function setup(input, index) {
    var form = input.form;
    var container = input.parentNode;
    if (getComputedStyle(container).position === "static") container.style.position = "relative";

    var listId = "suggest-list-" + index;
    var list = document.createElement("ul");
    list.id = listId;
    list.className = "suggest-list";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", "检索建议");
    list.hidden = true;
    container.appendChild(list);

    var status = document.createElement("div");
    status.className = "suggest-status";
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");
    container.appendChild(status);

    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-controls", listId);
    input.setAttribute("aria-expanded", "false");

    var timer = null;
    var sequence = 0;
    var items = []; // [{title, url, type}] plus the trailing "search all" entry
    var active = -1;

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function highlight(position) {
      var options = list.querySelectorAll("[role=option]");
      for (var i = 0; i < options.length; i++) {
        options[i].setAttribute("aria-selected", i === position ? "true" : "false");
      }
      active = position;
      if (position >= 0 && options[position]) {
        input.setAttribute("aria-activedescendant", options[position].id);
        options[position].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function choose(position) {
      var item = items[position];
      if (!item) return;
      if (item.url) {
        window.location.assign(item.url);
      } else if (form) {
        close();
        form.submit();
      }
    }

    function render(query, suggestions) {
      list.textContent = "";
      items = suggestions.slice();
      items.push({ title: "检索“" + query + "”", url: "", type: "", all: true });
      items.forEach(function (item, i) {
        var option = document.createElement("li");
        option.id = listId + "-" + i;
        option.className = "suggest-option" + (item.all ? " suggest-option--all" : "");
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        var title = document.createElement("span");
        title.textContent = item.title;
        option.appendChild(title);
        if (item.type) {
          var type = document.createElement("span");
          type.className = "suggest-option__type";
          type.textContent = item.type;
          option.appendChild(type);
        }
        // mousedown fires before the input loses focus
        option.addEventListener("mousedown", function (event) {
          event.preventDefault();
          choose(i);
        });
        list.appendChild(option);
      });
      active = -1;
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      status.textContent = suggestions.length
        ? "有 " + suggestions.length + " 条建议，可用上下方向键选择"
        : "没有匹配的标题，按回车检索";
    }

    function fetchSuggestions() {
      var query = input.value.trim();
      if (query.length < MIN_CHARS) {
        close();
        return;
      }
      var mine = ++sequence;
      var url = input.getAttribute("data-suggest-url") + "?q=" + encodeURIComponent(query);
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          return response.ok ? response.json() : { suggestions: [] };
        })
        .then(function (data) {
          // a later keystroke has already asked again, or the box changed meanwhile
          if (mine !== sequence || input.value.trim() !== query) return;
          if (document.activeElement !== input) return;
          render(query, data.suggestions || []);
        })
        .catch(function () {
          close();
        });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(fetchSuggestions, DELAY_MS);
    });

    input.addEventListener("keydown", function (event) {
      var open = !list.hidden;
      if (event.key === "ArrowDown") {
        event.preventDefault();
        if (!open) {
          fetchSuggestions();
          return;
        }
        highlight(active + 1 >= items.length ? 0 : active + 1);
      } else if (event.key === "ArrowUp") {
        if (!open) return;
        event.preventDefault();
        highlight(active - 1 < 0 ? items.length - 1 : active - 1);
      } else if (event.key === "Enter") {
        if (open && active >= 0) {
          event.preventDefault();
          choose(active);
        }
      } else if (event.key === "Escape") {
        if (open) {
          event.preventDefault();
          close();
        }
      } else if (event.key === "Tab") {
        close();
      }
    });

    input.addEventListener("blur", function () {
      setTimeout(close, 150);
    });
  }

  function init() {
    var inputs = document.querySelectorAll("input[data-suggest-url]");
    if (!inputs.length || !window.fetch) return;
    addStyle();
    for (var i = 0; i < inputs.length; i++) setup(inputs[i], i);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();

// Behaviour that used to be inline (onclick/onsubmit): the Content Security Policy
// allows no inline script, so buttons and forms declare it with data attributes.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-print]") : null;
    if (button) {
      event.preventDefault();
      window.print();
    }
  });
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  });
})();
