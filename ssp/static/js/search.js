/* Typeahead for the participant search box: POSTs the text (never in a URL) and lists
   matches as links below the box. Enter still submits the box as typed. */
(function () {
  "use strict";
  var form = document.querySelector("form[data-typeahead-url]");
  if (!form) return;
  var box = form.querySelector("input[name=code]");
  var list = document.getElementById("typeahead");
  var token = document.querySelector("meta[name=csrf-token]").content;
  var url = form.dataset.typeaheadUrl;
  // The note beside an old code, in the page's language (from the template).
  var earlierCode = form.dataset.earlierCode || "({code})";
  var timer = null;
  var latest = 0;

  function show(matches) {
    list.textContent = "";
    matches.forEach(function (match) {
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.href = match.url;
      link.textContent = match.code;
      link.className = "code";
      item.appendChild(link);
      if (match.alias) {
        var note = document.createElement("span");
        note.className = "muted";
        note.textContent = " " + earlierCode.replace("{code}", match.current_code);
        item.appendChild(note);
      }
      list.appendChild(item);
    });
    list.hidden = matches.length === 0;
  }

  function lookup() {
    var text = box.value.trim();
    var request = ++latest;
    if (text.length < 2) { show([]); return; }
    fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token },
      body: JSON.stringify({ q: text })
    }).then(function (response) {
      return response.ok ? response.json() : { matches: [] };
    }).then(function (data) {
      if (request === latest) show(data.matches || []);
    }).catch(function () { show([]); });
  }

  box.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(lookup, 150);
  });
  box.addEventListener("keydown", function (event) {
    if (event.key === "ArrowDown" && !list.hidden) {
      event.preventDefault();
      list.querySelector("a").focus();
    }
  });
  list.addEventListener("keydown", function (event) {
    var links = Array.prototype.slice.call(list.querySelectorAll("a"));
    var index = links.indexOf(document.activeElement);
    if (event.key === "ArrowDown" && index < links.length - 1) { event.preventDefault(); links[index + 1].focus(); }
    if (event.key === "ArrowUp") { event.preventDefault(); (index > 0 ? links[index - 1] : box).focus(); }
    if (event.key === "Escape") { box.focus(); show([]); }
  });
})();
