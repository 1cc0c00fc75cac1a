// Draws the lifecycle page's charts with Apache ECharts from the JSON the server put in #lifecycle-data.
(function () {
  "use strict";
  const source = document.getElementById("lifecycle-data");
  if (!source || typeof echarts === "undefined") return; // the tables beside the charts still show the numbers
  const data = JSON.parse(source.textContent);
  const colors = ["#0f766e", "#0891b2", "#7c3aed", "#16a34a", "#f59e0b", "#ea580c", "#64748b", "#b91c1c"];

  function bars(id, labels, series, horizontal) {
    const chart = echarts.init(document.getElementById(id));
    const categories = { type: "category", data: labels, axisLabel: { interval: 0, hideOverlap: false } };
    const values = { type: "value", minInterval: 1 };
    chart.setOption({
      color: colors,
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: series.length > 1 ? { top: 0 } : undefined,
      grid: { left: 8, right: 16, top: series.length > 1 ? 32 : 12, bottom: 8, containLabel: true },
      xAxis: horizontal ? values : categories,
      yAxis: horizontal ? Object.assign({ inverse: true }, categories) : values,
      series: series.map((s) => ({ name: s.name, type: "bar", data: s.values, label: { show: true,
        position: horizontal ? "right" : "top" } })),
    });
    window.addEventListener("resize", () => chart.resize());
    return chart;
  }

  bars("stages-chart", data.stages.labels, [{ name: data.stages.series, values: data.stages.values }], false);
  bars("rfm-chart", data.rfm.labels, [{ name: data.rfm.series, values: data.rfm.values }], true);
  bars("value-chart", data.value.labels, data.value.series, false);
})();
