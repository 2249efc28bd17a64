// ECharts, only the parts used: line and bar charts on the canvas renderer.
import * as echarts from 'echarts/core';
import { BarChart, LineChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';

echarts.use([LineChart, BarChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer]);

/** A chart in `el`: {set(option), dispose()}; it follows the element's size. */
export function create(el) {
  const chart = echarts.init(el, null, { renderer: 'canvas' });
  const ro = typeof ResizeObserver === 'function' ? new ResizeObserver(() => chart.resize()) : null;
  ro?.observe(el);
  return {
    chart,
    set: (option) => chart.setOption(option, true),
    dispose: () => { ro?.disconnect(); chart.dispose(); },
  };
}
