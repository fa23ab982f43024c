/* The visit form.
   - Enter saves from every box, a select included (a browser would otherwise ignore
     Enter there or open the list). Typing a letter on a select still picks the first
     option starting with it, as browsers do.
   - A naloxone reason box is a Tab stop only while its kit has a quantity, so Tab goes
     from the reason just chosen to the next thing to fill in. */
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
})();
