// Runs in the generated page, after the inlined Chart.js: draws every <canvas data-chart="N">
// from the chart configurations embedded as JSON. Tables are already in the HTML; this script
// only adds the charts, so a page whose script fails still shows every number.
(function () {
  'use strict';
  const charts = JSON.parse(document.getElementById('chart-data').textContent);

  function rate(value) {
    if (value === null || value === undefined) return '-';
    const units = [[1e9, 'G'], [1e6, 'M'], [1e3, 'k']];
    for (const [size, unit] of units) {
      if (Math.abs(value) >= size) return (value / size).toFixed(value / size >= 100 ? 0 : 1) + unit + '/s';
    }
    return value.toFixed(0) + '/s';
  }
  const formats = {
    rate: rate,
    ratio: (v) => (v === null || v === undefined ? '-' : v.toFixed(3) + 'x'),
    count: (v) => String(v),
  };

  Chart.defaults.animation = false;  // draw at once: screenshots and tests see the final chart
  Chart.defaults.maintainAspectRatio = false;
  document.querySelectorAll('canvas[data-chart]').forEach((canvas) => {
    const spec = charts[Number(canvas.dataset.chart)];
    const format = formats[spec.format] || String;
    const config = spec.config;
    config.options = config.options || {};
    config.options.plugins = Object.assign({}, config.options.plugins, {
      title: { display: true, text: spec.title },
      tooltip: {
        callbacks: {
          label: (item) => item.dataset.label + ': ' + format(item.parsed.y),
        },
      },
    });
    const y = ((config.options.scales = config.options.scales || {}).y =
        config.options.scales.y || {});
    if (spec.format !== 'count') y.ticks = Object.assign({}, y.ticks, { callback: (v) => format(v) });
    new Chart(canvas, config);
  });
  document.body.dataset.chartsDrawn = String(charts.length);
})();
