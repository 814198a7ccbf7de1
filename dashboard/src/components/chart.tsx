import { useEffect, useRef } from 'preact/hooks';
import {
  ArcElement, BarController, BarElement, CategoryScale, Chart, DoughnutController, Legend, LinearScale, Tooltip,
} from 'chart.js';
import { useI18n } from '../i18n.ts';

// Charts (Chart.js, canvas) with what a screen reader and a spreadsheet need: an accessible name and
// summary on the figure, and the same numbers as a table one click away.

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip, DoughnutController, ArcElement);

export type Series = { label: string; data: number[] };

const PALETTE = ['#1f6f8b', '#e07a5f', '#3d405b', '#81b29a', '#f2cc8f', '#6d597a', '#b56576', '#457b9d', '#a8dadc', '#e63946', '#2a9d8f', '#8d99ae'];

type Props = {
  title: string;
  labels: string[];
  series: Series[];
  kind?: 'bar' | 'doughnut';
  stacked?: boolean;
  horizontal?: boolean;
  height?: number;
  testId?: string;
};

export function ChartFigure({ title, labels, series, kind = 'bar', stacked = false, horizontal = false, height = 280, testId }: Props) {
  const { t, tonnes, compact, locale } = useI18n();
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    if (!canvas.current) return;
    const chart = new Chart(canvas.current, {
      type: kind,
      data: {
        labels,
        datasets: series.map((s, i) => ({
          label: s.label, data: s.data,
          backgroundColor: kind === 'doughnut' ? labels.map((_, j) => PALETTE[j % PALETTE.length]!) : PALETTE[i % PALETTE.length]!,
        })),
      },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false, locale: locale === 'ja' ? 'ja-JP' : 'en-US',
        indexAxis: horizontal ? 'y' : 'x',
        plugins: { legend: { position: 'bottom' }, tooltip: { callbacks: { label: (c) => `${c.dataset.label ?? c.label}: ${tonnes(Number(c.raw))}` } } },
        scales: kind === 'doughnut' ? {} : {
          x: { stacked, ticks: horizontal ? { callback: (v) => compact(Number(v)) } : {} },
          y: { stacked, ticks: horizontal ? {} : { callback: (v) => compact(Number(v)) } },
        },
      },
    });
    return () => chart.destroy();
  }, [JSON.stringify([labels, series, kind, stacked, horizontal, locale])]);
  const total = series.reduce((sum, s) => sum + s.data.reduce((a, b) => a + b, 0), 0);
  const summary = t('chartSummary', { title, count: labels.length, total: tonnes(total) });
  return (
    <figure class="chart" data-testid={testId}>
      <figcaption>{title}</figcaption>
      {labels.length === 0
        ? <p class="state empty">{t('noData')}</p>
        : <div class="canvas" style={{ height: `${height}px` }}><canvas ref={canvas} role="img" aria-label={summary} /></div>}
      {labels.length > 0 && (
        <details>
          <summary>{t('showTable')}</summary>
          <div class="scroll">
            <table>
              <thead><tr><th scope="col">{''}</th>{series.map((s) => <th scope="col" key={s.label}>{s.label}</th>)}</tr></thead>
              <tbody>
                {labels.map((label, i) => (
                  <tr key={label}><th scope="row">{label}</th>{series.map((s) => <td class="num" key={s.label}>{tonnes(s.data[i] ?? 0)}</td>)}</tr>
                ))}
              </tbody>
            </table>
          </div>
        </details>
      )}
    </figure>
  );
}
