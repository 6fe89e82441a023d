// SPDX-License-Identifier: MIT
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

  // Whiskers for datasets that carry `spread`: [low, high] per bar (null: none), drawn over the
  // bar from low to high with short caps.
  const spreadWhiskers = {
    id: 'spreadWhiskers',
    afterDatasetsDraw(chart) {
      const { ctx } = chart;
      const y = chart.scales.y;
      chart.data.datasets.forEach((dataset, i) => {
        if (!dataset.spread || !chart.isDatasetVisible(i)) return;
        chart.getDatasetMeta(i).data.forEach((bar, j) => {
          const range = dataset.spread[j];
          if (!range) return;
          const top = y.getPixelForValue(range[1]);
          const bottom = y.getPixelForValue(range[0]);
          const cap = Math.min(6, (bar.width || 8) / 3);
          ctx.save();
          ctx.strokeStyle = '#222';
          ctx.lineWidth = 1.2;
          ctx.beginPath();
          ctx.moveTo(bar.x, top); ctx.lineTo(bar.x, bottom);
          ctx.moveTo(bar.x - cap, top); ctx.lineTo(bar.x + cap, top);
          ctx.moveTo(bar.x - cap, bottom); ctx.lineTo(bar.x + cap, bottom);
          ctx.stroke();
          ctx.restore();
        });
      });
    },
  };
  Chart.register(spreadWhiskers);

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
          label: (item) => {
            const range = item.dataset.spread && item.dataset.spread[item.dataIndex];
            return item.dataset.label + ': ' + format(item.parsed.y) +
              (range ? ' (repetitions ' + format(range[0]) + ' to ' + format(range[1]) + ')' : '');
          },
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
