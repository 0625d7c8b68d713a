(function () {
  var text = document.getElementById("filter-text");
  var severity = document.getElementById("filter-severity");
  var type = document.getElementById("filter-type");
  var count = document.getElementById("filter-count");
  var rows = Array.prototype.slice.call(document.querySelectorAll("#components tbody tr"));
  function apply() {
    var needle = text.value.trim().toLowerCase();
    var shown = 0;
    rows.forEach(function (row) {
      var visible = (!needle || row.getAttribute("data-search").indexOf(needle) !== -1) &&
        (!severity.value || row.getAttribute("data-severity") === severity.value) &&
        (!type.value || row.getAttribute("data-type") === type.value);
      row.hidden = !visible;
      if (visible) { shown += 1; }
    });
    count.textContent = shown + " of " + rows.length + " components";
  }
  [text, severity, type].forEach(function (control) { control.addEventListener("input", apply); });
  apply();
})();
