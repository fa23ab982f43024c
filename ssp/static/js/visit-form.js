/* The visit form: Enter saves from every box, a select included (a browser would
   otherwise ignore Enter there or open the list). Typing a letter on a select still
   picks the first option starting with it, as browsers do. */
(function () {
  "use strict";
  var form = document.getElementById("visit-form");
  if (!form) return;
  form.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.key !== "Enter" || event.isComposing || target.tagName !== "SELECT") return;
    event.preventDefault();
    if (typeof form.requestSubmit === "function") {
      form.requestSubmit(form.querySelector("[type=submit]"));
    } else {
      form.submit();
    }
  });
})();
