/* 見える化: draw the page's numbers (JSON in #insights-data) with Chart.js, served from the app. */
(function () {
  "use strict";
  var node = document.getElementById("insights-data");
  if (!node || typeof Chart === "undefined") { return; }
  var d = JSON.parse(node.textContent);
  var labels = JSON.parse((document.getElementById("outcome-labels") || {}).textContent || "{}");
  Chart.defaults.font.family = 'system-ui, "Hiragino Sans", "Noto Sans CJK JP", "Yu Gothic UI", sans-serif';
  Chart.defaults.font.size = 14;
  Chart.defaults.animation = false;
  function base() { return { responsive: true, maintainAspectRatio: false }; }
  function draw(id, config) {
    var canvas = document.getElementById(id);
    if (canvas) { canvas.dataset.drawn = "1"; new Chart(canvas, config); }
  }
  draw("chart-needs", { type: "bar", options: Object.assign({ indexAxis: "y", scales: { y: { ticks: { autoSkip: false } } } }, base()), data: {
    labels: d.categories, datasets: [
      { label: "困りごと", data: d.needs, backgroundColor: "#0b6e3a" },
      { label: "未解決", data: d.unmet, backgroundColor: "#d9822b" }] } });
  draw("chart-supply", { type: "bar", options: base(), data: {
    labels: d.categories, datasets: [
      { label: "資源/件", data: d.resourcesPerNeed, backgroundColor: "#2f6fb5" },
      { label: "担い手/件", data: d.volunteersPerNeed, backgroundColor: "#8e5bb5" }] } });
  draw("chart-districts", { type: "bar", options: base(), data: {
    labels: d.districts, datasets: [
      { label: "困りごと", data: d.districtNeeds, backgroundColor: "#0b6e3a" },
      { label: "未解決", data: d.districtUnmet, backgroundColor: "#d9822b" }] } });
  draw("chart-outcomes", { type: "doughnut", options: base(), data: {
    labels: d.outcomeKeys.map(function (k) { return labels[k] || k; }),
    datasets: [{ data: d.outcomes, backgroundColor: ["#0b6e3a", "#2f6fb5", "#8e5bb5", "#b3261e"] }] } });
})();
