/* Partner selects list only the partners that serve the chosen referral category.
   A select marked data-partner-filter="<id of the category select>" is filtered. */
(function () {
  "use strict";
  document.querySelectorAll("select[data-partner-filter]").forEach(function (partners) {
    var category = document.getElementById(partners.dataset.partnerFilter);
    if (!category) return;
    function filter() {
      var chosen = category.value;
      Array.prototype.forEach.call(partners.options, function (option) {
        var serves = option.dataset.categories;
        var show = !serves || (chosen && serves.split(" ").indexOf(chosen) >= 0);
        option.hidden = !show;
        option.disabled = !show;
        if (!show && option.selected) partners.value = "";
      });
    }
    category.addEventListener("change", filter);
    filter();
  });
})();
