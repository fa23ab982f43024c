/* The visit form.
   - Enter saves from every box, a select included (a browser would otherwise ignore
     Enter there or open the list). Typing a letter on a select still picks the first
     option starting with it, as browsers do.
   - A naloxone reason box is a Tab stop only while its kit has a quantity, so Tab goes
     from the reason just chosen to the next thing to fill in.
   - Alt+A (Option+A on a Mac) goes to the first follow-up answer from any box.
   - The page keeps a box reached with Tab clear of the sticky save bar: its scroll
     padding follows the bar's real height (--save-bar-height), whatever wraps in it. */
(function () {
  "use strict";
  var form = document.getElementById("visit-form");
  if (!form) return;
  var firstAnswer = form.querySelector(".follow-up-answers select");
  if (firstAnswer) {
    document.addEventListener("keydown", function (event) {
      if (!event.altKey || event.code !== "KeyA") return;
      if (event.ctrlKey || event.metaKey || event.shiftKey) return;
      event.preventDefault();  // on a Mac, Option+A would otherwise type "å"
      firstAnswer.focus();
    });
  }
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

  function followQuantity(reason) {
    var quantity = document.getElementById(reason.id.replace(/^reason_/, "item_"));
    if (!quantity) return;
    var update = function () {
      var given = parseInt(quantity.value, 10) > 0;
      var flagged = reason.getAttribute("aria-invalid") === "true";
      reason.tabIndex = given || flagged || reason.value ? 0 : -1;
    };
    quantity.addEventListener("input", update);
    reason.addEventListener("change", update);
    update();
  }
  Array.prototype.forEach.call(form.querySelectorAll("select.reason"), followQuantity);

  var bar = form.querySelector(".form-actions");
  if (bar && typeof ResizeObserver === "function") {
    var root = document.documentElement;
    new ResizeObserver(function () {
      root.style.setProperty("--save-bar-height", bar.offsetHeight + "px");
    }).observe(bar);
  }
})();
