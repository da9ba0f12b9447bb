// Shows the confidence slider's value while it moves (no inline script: the CSP forbids it).
document.addEventListener("DOMContentLoaded", function () {
  var slider = document.getElementById("filter-conf");
  var out = document.getElementById("conf-out");
  if (slider && out) {
    slider.addEventListener("input", function () { out.textContent = slider.value; });
  }
});
