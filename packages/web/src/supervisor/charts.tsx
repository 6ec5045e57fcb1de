export interface Series {
  name: string;
  color: string;
  values: readonly (number | undefined)[];
}

const WIDTH = 560;
const HEIGHT = 200;
const PAD = { top: 12, right: 12, bottom: 26, left: 36 };

function niceMax(value: number): number {
  if (value <= 0) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  const step = [1, 2, 2.5, 5, 10].find((candidate) => candidate * magnitude >= value) ?? 10;
  return step * magnitude;
}

function Axes({ labels, max, format }: { labels: readonly string[]; max: number; format: (v: number) => string }) {
  const innerHeight = HEIGHT - PAD.top - PAD.bottom;
  const innerWidth = WIDTH - PAD.left - PAD.right;
  const ticks = [0, 0.5, 1].map((fraction) => fraction * max);
  const every = Math.max(1, Math.ceil(labels.length / 8));
  return (
    <g className="axes">
      {ticks.map((tick) => {
        const y = PAD.top + innerHeight - (tick / max) * innerHeight;
        return (
          <g key={tick}>
            <line x1={PAD.left} x2={WIDTH - PAD.right} y1={y} y2={y} className="gridline" />
            <text x={PAD.left - 6} y={y + 4} textAnchor="end" className="tick">
              {Number.isInteger(tick) ? format(tick) : tick.toFixed(1)}
            </text>
          </g>
        );
      })}
      {labels.map((label, index) =>
        index % every === 0 ? (
          <text
            // biome-ignore lint/suspicious/noArrayIndexKey: labels are positional buckets
            key={index}
            x={PAD.left + ((index + 0.5) / labels.length) * innerWidth}
            y={HEIGHT - 8}
            textAnchor="middle"
            className="tick"
          >
            {label}
          </text>
        ) : null,
      )}
    </g>
  );
}

function Legend({ series }: { series: readonly Series[] }) {
  return (
    <ul className="legend">
      {series.map((entry) => (
        <li key={entry.name}>
          <span className="swatch" style={{ background: entry.color }} aria-hidden="true" />
          {entry.name}
        </li>
      ))}
    </ul>
  );
}

/** Grouped bars per time bucket; drawn by hand to keep the bundle small and the styling ours. */
export function BarChart({
  title,
  labels,
  series,
  format = (value) => String(Math.round(value)),
}: {
  title: string;
  labels: readonly string[];
  series: readonly Series[];
  format?: (value: number) => string;
}) {
  const max = niceMax(Math.max(0, ...series.flatMap((entry) => entry.values.map((value) => value ?? 0))));
  const innerHeight = HEIGHT - PAD.top - PAD.bottom;
  const slot = (WIDTH - PAD.left - PAD.right) / Math.max(1, labels.length);
  const barWidth = Math.max(2, (slot * 0.75) / Math.max(1, series.length));
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={title}>
        <Axes labels={labels} max={max} format={format} />
        {series.map((entry, seriesIndex) =>
          entry.values.map((value, index) => {
            const height = ((value ?? 0) / max) * innerHeight;
            const x = PAD.left + index * slot + slot * 0.125 + seriesIndex * barWidth;
            return (
              <rect
                // biome-ignore lint/suspicious/noArrayIndexKey: bars are positional buckets
                key={`${entry.name}-${index}`}
                x={x}
                y={PAD.top + innerHeight - height}
                width={barWidth - 1}
                height={height}
                fill={entry.color}
                rx={1.5}
              >
                <title>{`${labels[index] ?? ''} · ${entry.name}: ${format(value ?? 0)}`}</title>
              </rect>
            );
          }),
        )}
      </svg>
      <Legend series={series} />
    </figure>
  );
}

/** A line per series; gaps where a bucket has no value (no accepted handoff means no median). */
export function LineChart({
  title,
  labels,
  series,
  format = (value) => String(Math.round(value)),
}: {
  title: string;
  labels: readonly string[];
  series: readonly Series[];
  format?: (value: number) => string;
}) {
  const max = niceMax(Math.max(0, ...series.flatMap((entry) => entry.values.map((value) => value ?? 0))));
  const innerHeight = HEIGHT - PAD.top - PAD.bottom;
  const slot = (WIDTH - PAD.left - PAD.right) / Math.max(1, labels.length);
  const point = (value: number, index: number) =>
    [PAD.left + (index + 0.5) * slot, PAD.top + innerHeight - (value / max) * innerHeight] as const;
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={title}>
        <Axes labels={labels} max={max} format={format} />
        {series.map((entry) => {
          const segments: string[] = [];
          let current = '';
          entry.values.forEach((value, index) => {
            if (value === undefined) {
              if (current) segments.push(current);
              current = '';
              return;
            }
            const [x, y] = point(value, index);
            current += `${current ? 'L' : 'M'}${x.toFixed(1)},${y.toFixed(1)}`;
          });
          if (current) segments.push(current);
          return (
            <g key={entry.name}>
              {segments.map((path) => (
                <path key={path} d={path} fill="none" stroke={entry.color} strokeWidth={2} />
              ))}
              {entry.values.map((value, index) => {
                if (value === undefined) return null;
                const [x, y] = point(value, index);
                return (
                  // biome-ignore lint/suspicious/noArrayIndexKey: points are positional buckets
                  <circle key={index} cx={x} cy={y} r={3} fill={entry.color}>
                    <title>{`${labels[index] ?? ''} · ${entry.name}: ${format(value)}`}</title>
                  </circle>
                );
              })}
            </g>
          );
        })}
      </svg>
      <Legend series={series} />
    </figure>
  );
}
