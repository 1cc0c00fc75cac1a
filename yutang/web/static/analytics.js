// Draws the overview page's charts with Apache ECharts from the JSON the server put in #analytics-data.
(function () {
  "use strict";
  const source = document.getElementById("analytics-data");
  if (!source || typeof echarts === "undefined") return; // the figures and tables still show the numbers
  const data = JSON.parse(source.textContent);
  const colors = ["#0f766e", "#0891b2", "#7c3aed", "#16a34a", "#f59e0b", "#ea580c", "#64748b", "#b91c1c"];

  function draw(id, kind, chart) {
    const element = document.getElementById(id);
    if (!element) return;
    const instance = echarts.init(element);
    instance.setOption({
      color: colors,
      tooltip: { trigger: "axis", axisPointer: { type: kind === "line" ? "line" : "shadow" } },
      grid: { left: 8, right: 16, top: 12, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: chart.labels, axisLabel: { hideOverlap: true } },
      yAxis: { type: "value", minInterval: 1 },
      series: [{ name: chart.series, type: kind, data: chart.values, smooth: kind === "line",
        label: { show: kind === "bar", position: "top" } }],
    });
    window.addEventListener("resize", () => instance.resize());
  }

  // Pond health: harm by marketing messages a week, touched against matched untouched customers (percent).
  function fatigue(id, chart) {
    const element = document.getElementById(id);
    if (!element) return;
    const instance = echarts.init(element);
    instance.setOption({
      color: ["#b91c1c", "#64748b"],
      tooltip: { trigger: "axis", valueFormatter: (v) => (v === null || v === undefined ? "–" : v + "%") },
      legend: { top: 0 },
      grid: { left: 8, right: 16, top: 32, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: chart.labels },
      yAxis: { type: "value", axisLabel: { formatter: "{value}%" } },
      series: [{ name: chart.series[0], type: "line", data: chart.rate },
        { name: chart.series[1], type: "line", data: chart.matched, lineStyle: { type: "dashed" } }],
    });
    window.addEventListener("resize", () => instance.resize());
  }

  function scatter(id, fit) {
    const element = document.getElementById(id);
    if (!element) return;
    const instance = echarts.init(element);
    const lines = [];
    if (fit.x_split !== null) lines.push({ xAxis: fit.x_split });
    if (fit.y_split !== null) lines.push({ yAxis: fit.y_split });
    instance.setOption({
      color: colors,
      tooltip: { trigger: "item", formatter: (p) => `${p.data.name}<br>${p.data.quadrant}<br>${fit.x_name}: ${p.data.value[0]}<br>${fit.y_name}: ${p.data.value[1]}` },
      grid: { left: 8, right: 24, top: 24, bottom: 24, containLabel: true },
      // Fewer days between purchases is more frequent: the axis runs from many days to few.
      xAxis: { type: "value", name: fit.x_name, nameLocation: "middle", nameGap: 24, inverse: true },
      yAxis: { type: "value", name: fit.y_name },
      series: [{ type: "scatter", symbolSize: 14, data: fit.points,
        label: { show: true, position: "right", formatter: (p) => p.data.name },
        markLine: { silent: true, symbol: "none", lineStyle: { type: "dashed" }, label: { show: false }, data: lines } }],
    });
    window.addEventListener("resize", () => instance.resize());
  }

  if (data.fatigue) fatigue("fatigue-chart", data.fatigue);
  if (data.active) draw("active-chart", "line", data.active);
  if (data.sales) draw("sales-chart", "bar", data.sales);
  if (data.domains) draw("domains-chart", "bar", data.domains);
  if (data.fit) scatter("fit-chart", data.fit);
  if (data.funnel) draw("funnel-chart", "bar", { labels: data.funnel.labels, values: data.funnel.values, series: "" });
})();
